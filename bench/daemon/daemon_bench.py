"""The body of bench/daemon/run.sh (see there): edgepolld and collectd side by
side against one device-sim and one kafka-sandbox, or the backlog run."""
import array
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import bench_support as bs

(build, mode, devices, c_devices, seconds, warmup, ports, outage, drain_rate,
 synchronous, perf_out, batch_delay_ms, interval) = sys.argv[1:14]
devices, c_devices, ports, interval = int(devices), int(c_devices), int(ports), int(interval)
seconds, warmup, outage = float(seconds), float(warmup), float(outage)
TOPIC, C_TOPIC = "edgepoll.readings", "collectd.values"
# Under callgrind the daemon runs some fifty times slower: a 500 ms timeout
# would measure failed polls instead of the poll path.
POLL_TIMEOUT = "5s" if mode == "instructions" else "500ms"
if mode == "instructions":
    c_devices = 0  # the daemon alone


class Consumer:
    """kcat reading one topic from its start; keeps (arrival ms, record timestamp ms).

    kcat exits when every broker is down (the backlog run's outage), so it is
    restarted, again from the topic's start, and skips the records at or below
    the last offset it already counted in their partition. (A consumer group
    would resume at its committed offsets, but a restarted member waits out its
    dead predecessor's session before the group assigns it anything.)"""

    def __init__(self, bootstrap, topic):
        self.arrived = array.array("d")
        self.stamped = array.array("d")
        self.restarts = 0
        self.last_offset = {}
        self.stopping = False
        self.args = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-u", "-q", "-f", "%p %o %T\n",
                     "-X", "fetch.wait.max.ms=5", "-X", "fetch.error.backoff.ms=50"]
        self.proc = self._start()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _start(self):
        return subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def _read(self):
        while True:
            for line in self.proc.stdout:
                now = time.time() * 1000
                try:
                    p, o, ts = line.split()
                    p, o, ts = int(p), int(o), float(ts)
                except ValueError:
                    continue
                if o <= self.last_offset.get(p, -1):
                    continue
                self.last_offset[p] = o
                self.arrived.append(now)
                self.stamped.append(ts)
            self.proc.wait()
            if self.stopping:
                return
            time.sleep(1)
            self.restarts += 1
            self.proc = self._start()

    def count(self):
        return len(self.arrived)

    def arrivals_between(self, t0_ms, t1_ms):
        return sum(1 for a in self.arrived if t0_ms <= a < t1_ms)

    def latencies_polled_between(self, t0_ms, t1_ms):
        return sorted(a - s for a, s in zip(self.arrived, self.stamped) if t0_ms <= s < t1_ms)

    def stop(self):
        self.stopping = True
        self.proc.terminate()
        self.proc.wait(timeout=10)


def scrape(port):
    # A loaded machine may have the daemon drop a scrape: three tries.
    for attempt in range(3):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                text = r.read().decode()
            break
        except (OSError, http.client.HTTPException) as e:
            if attempt == 2:
                print(f"scrape of /metrics failed: {e!r}", file=sys.stderr)
                return {}
            time.sleep(0.5)
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def metric(m, name):
    return m.get(name, 0.0)


LATE = 'edgepoll_poll_ticks_skipped_total{kind="late"}'


def daemon_config(tmp, bootstrap, addresses, health_port):
    lines = ['[node]\nid = "bench-node"\n',
             f'[storage]\npath = "{tmp}/state/edgepoll.db"\n']
    if synchronous:
        lines.append(f'synchronous = "{synchronous}"\n')
    if batch_delay_ms:
        lines.append(f'batch_max_delay_ms = {batch_delay_ms}\n')
    lines.append(f'[health]\nport = {health_port}\n')
    lines.append(f'[control]\nsocket = "{tmp}/control.sock"\n')
    lines.append(f'[kafka]\nbootstrap_servers = "{bootstrap}"\ndefault_topic = "{TOPIC}"\n'
                 'properties = { "reconnect.backoff.max.ms" = "500" }\n')
    if drain_rate:
        lines.append(f"drain_rate = {drain_rate}\n")
    for key in ("max_in_flight", "fetch_batch"):  # [kafka] keys, from the environment when set
        if os.environ.get(key.upper()):
            lines.append(f"{key} = {int(os.environ[key.upper()])}\n")
    for i in range(devices):
        lines.append(
            f'[[device]]\nid = "e-{i}"\nurl = "http://{addresses[i % len(addresses)]}/devices/e-{i}"\n'
            f'interval = "{interval}s"\ntimeout = "{POLL_TIMEOUT}"\n'
            'metrics = [ { pointer = "/temperature", name = "temperature", type = "float", unit = "degC" },\n'
            '            { pointer = "/humidity", name = "humidity", type = "float", unit = "%" },\n'
            '            { pointer = "/pressure", name = "pressure", type = "float", unit = "hPa" } ]\n')
    path = os.path.join(tmp, "edgepoll.toml")
    os.makedirs(os.path.join(tmp, "state"), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def ms(v):
    return "n/a" if v is None else f"{v:,.1f}"


def main():
    tmp = tempfile.mkdtemp(prefix="daemon-bench-")
    os.chmod(tmp, 0o755)
    procs = []
    consumers = []
    try:
        sandbox, bootstrap = bs.start_kafka_sandbox(build, 3, [f"{TOPIC}:4", f"{C_TOPIC}:4", "kcat.backlog:4"])
        procs.append(sandbox)
        sim, addresses = bs.start_device_sim(build, ports)
        procs.append(sim)
        ours = Consumer(bootstrap, TOPIC)
        consumers.append(ours)
        theirs = Consumer(bootstrap, C_TOPIC) if c_devices else None
        if theirs:
            consumers.append(theirs)
        health_port = bs.free_port()
        conf = daemon_config(tmp, bootstrap, addresses, health_port)
        log = open(os.path.join(tmp, "daemon.log"), "w")
        started_ms = time.time() * 1000
        binary = os.environ.get("EDGEPOLLD") or f"{build}/appliance/edgepolld"
        under = []
        if mode == "instructions":
            under = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/callgrind.out",
                     "--separate-threads=yes"]
        daemon = subprocess.Popen(under + [binary, "--config", conf], stdout=log, stderr=log)
        procs.append(daemon)
        collectd = None
        if c_devices:
            cconf = os.path.join(tmp, "collectd.conf")
            with open(cconf, "w") as f:
                f.write(bs.collectd_header(tmp, interval) + bs.collectd_curl_json(addresses, c_devices)
                        + bs.collectd_write_kafka(bootstrap, C_TOPIC))
            collectd = subprocess.Popen(["collectd", "-f", "-C", cconf],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(collectd)
        bs.wait_until(lambda: ours.count() > 0, 600 if under else 120, "the first edgepoll reading in Kafka", 0.1)
        first_ms = time.time() * 1000
        print(f"load before the window: {bs.load_average()}", file=sys.stderr)
        time.sleep(warmup)
        if mode == "backlog":
            backlog_run(tmp, sandbox, bootstrap, daemon, health_port, ours, started_ms)
            return
        if mode == "instructions":
            instructions_run(tmp, daemon, health_port, addresses)
            return
        m0 = scrape(health_port)
        w0 = time.time() * 1000
        e0, c0, t0 = bs.served(addresses[0], "e-"), bs.served(addresses[0], "c-"), time.monotonic()
        ecpu0 = bs.cpu_seconds(daemon.pid)
        ccpu0 = bs.cpu_seconds(collectd.pid) if collectd else 0
        ectx0 = bs.context_switches(daemon.pid)
        cctx0 = bs.context_switches(collectd.pid) if collectd else 0
        load0 = bs.load_average()
        perf = None
        if perf_out:  # the daemon's profile over the window (flat, by symbol)
            perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499", "-o", perf_out + ".data",
                                     "-p", str(daemon.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        e1, c1, t1 = bs.served(addresses[0], "e-"), bs.served(addresses[0], "c-"), time.monotonic()
        ecpu1 = bs.cpu_seconds(daemon.pid)
        ccpu1 = bs.cpu_seconds(collectd.pid) if collectd else 0
        ectx1 = bs.context_switches(daemon.pid)
        cctx1 = bs.context_switches(collectd.pid) if collectd else 0
        w1 = time.time() * 1000
        m1 = scrape(health_port)
        e_rss = bs.rss_bytes(daemon.pid)
        c_rss = bs.rss_bytes(collectd.pid) if collectd else 0
        time.sleep(2)  # readings of the window's end arrive
        window = t1 - t0
        e_lat = ours.latencies_polled_between(w0, w1)
        s_lat = ours.latencies_polled_between(first_ms - 1000, first_ms + warmup * 1000)
        rows = []
        e = dict(polls=(e1 - e0) / window, kafka=ours.arrivals_between(w0, w1) / window, cpu=ecpu1 - ecpu0,
                 rss=e_rss / devices, ctx=ectx1 - ectx0)
        c = dict(polls=(c1 - c0) / window, kafka=theirs.arrivals_between(w0, w1) / window if theirs else 0,
                 cpu=ccpu1 - ccpu0, rss=c_rss / c_devices if c_devices else 0, ctx=cctx1 - cctx0)
        for x in (e, c):
            x["ctx_per_poll"] = x["ctx"] / (x["polls"] * window) if x["polls"] else 0
            x["cpu_per_1000"] = x["cpu"] * 1000 / (x["polls"] * window) if x["polls"] else 0
            x["per_cpu_s"] = x["polls"] * window / x["cpu"] if x["cpu"] else 0
            x["cores"] = x["cpu"] / window
        print(f"{devices:,} devices for edgepoll and {c_devices:,} for collectd, each polled every {interval} s, both at once against "
              f"one device-sim on {ports} ports and one 3-broker kafka-sandbox; {window:.1f} s window after "
              f"{warmup:.0f} s past the first reading; load average {load0} at the window's start "
              f"(2 cores, shared).")
        print()
        print("| figure | edgepoll (SQLite outbox, acks=all) | collectd 5.12 curl_json + write_kafka | edgepoll / collectd |")
        print("|---|---:|---:|---:|")
        for name, key, better, fmt in [("polls completed per second", "polls", "higher", "{:,.0f}"),
                                       ("records arriving in Kafka per second (edgepoll: one per poll; collectd: one per value)", "kafka", "higher", "{:,.0f}"),
                                       ("cores (CPU-s per s, whole process)", "cores", "lower", "{:.3f}"),
                                       ("CPU-seconds per 1,000 polls", "cpu_per_1000", "lower", "{:.4f}"),
                                       ("polls per CPU-second", "per_cpu_s", "higher", "{:,.0f}"),
                                       ("RSS per device (bytes, whole process / devices)", "rss", "lower", "{:,.0f}"),
                                       ("context switches per poll (every thread)", "ctx_per_poll", "lower", "{:.2f}")]:
            a, b = e[key], c[key]
            ratio = f"{a / b:.2f}x ({better} is better)" if b else "n/a"
            print(f"| {name} | {fmt.format(a)} | {fmt.format(b) if c_devices else 'n/a'} | {ratio} |")
        print()
        print("| edgepoll poll -> consumed (ms; an upper bound of poll -> ack) | readings | p50 | p99 | max |")
        print("|---|---:|---:|---:|---:|")
        for name, lat in [("steady state (polled in the window)", e_lat),
                          (f"start-up (polled in the first {warmup:.0f} s)", s_lat)]:
            print(f"| {name} | {len(lat):,} | {ms(bs.percentile(lat, 50))} | {ms(bs.percentile(lat, 99))} | "
                  f"{ms(lat[-1] if lat else None)} |")
        print()
        if perf:
            report = subprocess.run(["perf", "report", "-i", perf_out + ".data", "--stdio", "--no-children",
                                     "--sort", "dso,symbol", "--percent-limit", "0.7"],
                                    capture_output=True, text=True).stdout
            # Per thread first (the event loop is the daemon's main thread, whose
            # id is the process id), then by library and symbol.
            threads = subprocess.run(["perf", "report", "-i", perf_out + ".data", "--stdio", "--no-children",
                                      "--sort", "pid", "--percent-limit", "0.5"],
                                     capture_output=True, text=True).stdout
            with open(perf_out, "w") as f:
                f.write(f"# daemon pid {daemon.pid}: the event loop runs on the thread of that id\n")
                f.write(threads)
                f.write(report)
        print(f"edgepoll in the window: late ticks shed {metric(m1, LATE) - metric(m0, LATE):.0f}, "
              f"poll failures {metric(m1, 'edgepoll_poll_failures_total') - metric(m0, 'edgepoll_poll_failures_total'):.0f}, "
              f"outbox rows at the end {metric(m1, 'edgepoll_outbox_readings'):.0f}")
    finally:
        for c in consumers:
            c.stop()
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()


# The event loop's share of a poll, by what it calls (inclusive instructions;
# the patterns are callgrind's function names).
LOOP_PARTS = [("the plain HTTP client starting a request (PlainHttpClient::Impl::fetch: a kept-alive connection, the request written)",
               "PlainHttpClient::Impl::fetch("),
              ("the plain HTTP client parsing answers (HttpResponseParser::feed)", "HttpResponseParser::feed("),
              ("libcurl (curl_multi_socket_action: https and host-name URLs)", "???:curl_multi_socket_action "),
              ("decoding the body (Decoder::decode: one SAX pass over the body, the mapped fields)", "Decoder::decode(std::basic_string_view"),
              ("encoding the outbox payload (encode_readings)", "encode_readings[abi:cxx11](edgepoll::pollers::DeviceReadings const&) ["),
              ("handing the reading to the storage writer (ReadingPipeline::submit, incl. encoding)", "ReadingPipeline::submit(edgepoll::pollers::DeviceReadings) ["),
              ("libcurl's completions and easy-handle reuse (finish_done)", "HttpFetcher::Impl::finish_done(edgepoll::pollers::(anonymous namespace)::Pool&) ["),
              ("the runtime's message delivery (Process::deliver, the enqueue side)", "edgepoll::supervision::Process::deliver(std::any) ["),
              ("timers (SteadyClock::State::wake)", "SteadyClock::State::wake(")]


def thread_kind(path, number):
    if number == 1:
        return "event loop (main thread)"
    with open(path, errors="replace") as f:
        text = f.read()
    for needle, kind in [("BatchWriter::loop", "storage writer"), ("rd_kafka_broker_thread_main", "librdkafka broker threads"),
                         ("LoopThread", "Kafka producer loop and command consumer"), ("rd_kafka_thread_main", "librdkafka main threads")]:
        if needle in text:
            return kind
    return "other threads (librdkafka's broker threads among them: Debian ships it without symbols)"


def instructions_run(tmp, daemon, health_port, addresses):
    """Instructions per poll of every thread, counted by callgrind over the
    window: the same binary and load give the same counts on a busy machine,
    which wall-clock and CPU-time figures on two shared cores do not."""
    import glob
    m0 = scrape(health_port)
    subprocess.run(["callgrind_control", "-z", str(daemon.pid)], check=True, capture_output=True, timeout=120)
    p0 = bs.served(addresses[0], "e-")
    time.sleep(seconds)
    p1 = bs.served(addresses[0], "e-")
    subprocess.run(["callgrind_control", "-d", str(daemon.pid)], check=True, capture_output=True, timeout=120)
    m1 = scrape(health_port)
    polls = p1 - p0
    failures = metric(m1, "edgepoll_poll_failures_total") - metric(m0, "edgepoll_poll_failures_total")
    time.sleep(2)  # the dump is written per thread
    by_kind, loop_file = {}, None
    for path in sorted(glob.glob(f"{tmp}/callgrind.out.1-*")):
        number = int(path.rsplit("-", 1)[1])
        with open(path, errors="replace") as f:
            total = next((int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:"))), 0)
        kind = thread_kind(path, number)
        by_kind[kind] = by_kind.get(kind, 0) + total
        if number == 1:
            loop_file = path
    print(f"instructions per poll (callgrind, {devices:,} devices polled every {interval} s, "
          f"{polls:,} polls in a {seconds:.0f} s window, {failures:.0f} failed; the daemon under valgrind).")
    print()
    print("| thread | instructions per poll |")
    print("|---|---:|")
    for kind, total in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"| {kind} | {total / polls:,.0f} |")
    print(f"| whole process | {sum(by_kind.values()) / polls:,.0f} |")
    if loop_file:
        report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", loop_file],
                                capture_output=True, text=True).stdout.splitlines()
        print()
        print("| the event loop, by what it calls (inclusive) | instructions per poll |")
        print("|---|---:|")
        for name, pattern in LOOP_PARTS:
            line = next((l for l in report if pattern in l), None)
            value = int(line.split()[0].replace(",", "")) if line else 0
            print(f"| {name} | {value / polls:,.0f} |")


def outbox_rows(tmp):
    """Rows in the daemon's outbox, read from its SQLite file (a reader beside the writer, WAL)."""
    import sqlite3
    db = sqlite3.connect(f"file:{tmp}/state/edgepoll.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        db.close()


def backlog_run(tmp, sandbox, bootstrap, daemon, health_port, ours, started_ms):
    # The outbox's steady level (rows in flight or waiting at the live rate).
    levels = []
    for _ in range(10):
        levels.append(outbox_rows(tmp))
        time.sleep(1)
    steady = max(levels)
    m0 = scrape(health_port)
    cpu0 = bs.cpu_seconds(daemon.pid)
    bs.sandbox_command(sandbox, "down all")
    down_ms = time.time() * 1000
    time.sleep(outage)
    backlog = outbox_rows(tmp)
    m_up = scrape(health_port)
    bs.sandbox_command(sandbox, "up all")
    up_ms, up = time.time() * 1000, time.monotonic()
    drained = None
    while time.monotonic() - up < 600:
        if outbox_rows(tmp) <= steady:
            drained = time.monotonic()
            break
        time.sleep(0.25)
    took = (drained or time.monotonic()) - up
    m1 = scrape(health_port)
    cpu1 = bs.cpu_seconds(daemon.pid)
    # Acknowledged by Kafka (the daemon's own counter) from the brokers coming
    # back until the outbox was at its steady level again (and the scrape after).
    delivered = metric(m1, "edgepoll_kafka_delivered_total") - metric(m_up, "edgepoll_kafka_delivered_total")
    late = metric(m1, LATE) - metric(m0, LATE)
    # Readings polled after the brokers came back queue behind the backlog,
    # and the consumer reads the whole backlog before them: 5 s after both the
    # window and the drain are over (when the window's readings have been
    # acknowledged), wait until the consumer has counted every record Kafka
    # had acknowledged by then (the daemon's counter).
    time.sleep(max(0.0, up + max(10, took) + 5 - time.monotonic()))
    acked = metric(scrape(health_port), "edgepoll_kafka_delivered_total")
    waited = time.monotonic()
    while ours.count() < acked and time.monotonic() - waited < 120:
        time.sleep(0.5)
    after = ours.latencies_polled_between(up_ms, up_ms + 10000)
    # kcat: as many records as the backlog, the same key and value sizes, into the same sandbox.
    sample = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", TOPIC, "-o", "-1", "-c", "1", "-e", "-q",
                             "-f", "%s"], capture_output=True, text=True, timeout=60).stdout
    n = int(backlog)
    records = os.path.join(tmp, "records.tsv")
    with open(records, "w") as f:
        value = sample.replace("\n", " ").replace("\t", " ")
        for i in range(n):
            f.write(f"e-{i % devices}\t{value}\n")
    t0 = time.monotonic()
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "kcat.backlog", "-K", "\t", "-z", "lz4",
                    "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5", "-l", records],
                   check=True, timeout=600)
    kcat_rate = n / (time.monotonic() - t0)
    ours_rate = delivered / took if took else 0
    print(f"backlog run: {devices:,} devices polled every {interval} s, every broker down for {outage:.0f} s then up; "
          f"outbox steady level {steady:.0f} rows; load average {bs.load_average()} at the end.")
    print()
    print("| figure | edgepoll | kcat | edgepoll / kcat |")
    print("|---|---:|---:|---:|")
    print(f"| backlog when the brokers came back (outbox rows) | {backlog:,.0f} | {n:,} records | |")
    state = "" if drained else " (not drained: gave up at 600 s)"
    print(f"| time to drain back to the steady level (s) | {took:.1f}{state} | {n / kcat_rate:.1f} | |")
    print(f"| records acknowledged per second while draining (backlog + live; edgepoll_kafka_delivered_total) | {ours_rate:,.0f} | "
          f"{kcat_rate:,.0f} | {ours_rate / kcat_rate:.2f}x (higher is better) |")
    print(f"| outbox rows drained per second (backlog / time) | {backlog / took if took else 0:,.0f} | | |")
    print()
    print(f"live polling during the outage and the drain: late ticks shed {late:.0f}, "
          f"polls {metric(m1, 'edgepoll_polls_total') - metric(m0, 'edgepoll_polls_total'):,.0f} in "
          f"{(time.time() * 1000 - down_ms) / 1000:.0f} s; daemon CPU over outage+drain {cpu1 - cpu0:.1f} s; "
          f"poll -> consumed of readings polled in the 10 s after the brokers came back: "
          f"p50 {ms(bs.percentile(after, 50))} ms, p99 {ms(bs.percentile(after, 99))} ms ({len(after):,} readings; "
          f"the consumer, which kcat ends while every broker is down, was restarted {ours.restarts} times)")


main()
