#!/usr/bin/env bash
# N SNMPv2c agents at 1 poll per 10 s, each poll 10 scalar OIDs plus a walk of a
# 24-row table (ifDescr, ifInOctets, ifOutOctets): edgepoll's SNMP client
# (SnmpTransport + SnmpPoll + SnmpDecoder + PollSchedule, bench/snmp/snmp_bench.cpp)
# and collectd 5.12's snmp plugin at the same time, each against its own agents
# on distinct loopback ports: by default one `device-sim --snmp` process per side
# (C++, one UDP port per agent, the same MIB as the recording), or with
# SIM=snmpsim, snmpsimd processes serving the recording generated here.
# edgepoll counts its polls itself; collectd's are counted as
# the lines its csv plugin writes for one scalar per agent (in /dev/shm). CPU
# from /proc/<pid>/stat, RSS from /proc/<pid>/status (bench/support/bench_support.py).
# Prints a markdown table on stdout.
#   bench/snmp/run.sh                         1,000 agents each, 40 s window
#   AGENTS=200 SECONDS_EACH=30 bench/snmp/run.sh
#   SIM=snmpsim SIMS=4 bench/snmp/run.sh      snmpsimd agents (SIMS processes per side)
#   EDGEPOLL=daemon bench/snmp/run.sh         edgepoll's side is the daemon, edgepolld, with a
#       generated config of N snmp devices (SQLite outbox, no Kafka): polls from its /metrics
#       (edgepoll_polls_total less edgepoll_poll_failures_total), CPU and RSS of the whole process;
#       PERF_OUT=FILE also writes the daemon's flat perf profile over the window (package linux-perf)
#   EDGEPOLL_BUILD_DIR=build/x bench/snmp/run.sh   (an existing build dir)
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
AGENTS=${AGENTS:-1000}
SECONDS_EACH=${SECONDS_EACH:-40}
WARMUP=${WARMUP:-12}
SIM=${SIM:-device-sim}   # or snmpsim
EDGEPOLL=${EDGEPOLL:-bench}   # or daemon
[[ $EDGEPOLL == bench || $EDGEPOLL == daemon ]] || { echo "EDGEPOLL is bench or daemon, not $EDGEPOLL" >&2; exit 2; }
SIMS=${SIMS:-4}   # SIM=snmpsim: snmpsimd processes per side (Python: one per few hundred agents)
[[ $SIM == device-sim || $SIM == snmpsim ]] || { echo "SIM is device-sim or snmpsim, not $SIM" >&2; exit 2; }

if [[ -n "${EDGEPOLL_BUILD_DIR:-}" ]]; then
  build=$(cd "$repo" && realpath "$EDGEPOLL_BUILD_DIR")
  cmake --build "$build" -j "$jobs" --target snmp-bench device-sim edgepolld >/dev/null
else
  "$repo/scripts/setup"
  configure_and_build default snmp-bench device-sim edgepolld >/dev/null
  build="$repo/build/default"
fi
command -v collectd >/dev/null || { echo "collectd missing: apt-get install -y collectd-core" >&2; exit 1; }
[[ -e /usr/lib/collectd/snmp.so ]] || { echo "collectd's snmp plugin is missing (collectd-core)" >&2; exit 1; }
[[ $SIM != snmpsim ]] || command -v snmpsimd >/dev/null || { echo "snmpsimd missing: apt-get install -y snmpsim" >&2; exit 1; }

BENCH_DIR="$repo/bench" python3 - "$build" "$AGENTS" "$SECONDS_EACH" "$WARMUP" "$SIMS" "$SIM" "$EDGEPOLL" <<'PY'
import glob, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
sys.path.insert(0, os.path.join(os.environ["BENCH_DIR"], "support"))
from bench_support import cpu_seconds, free_port, load_average, rss_bytes, start_device_sim, wait_until

build, agents, seconds, warmup, sims, sim, edgepoll = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3]),
                                                      float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
SCALARS = [f"1.3.6.1.4.1.99999.1.{i}.0" for i in range(1, 11)]
TAGS = [2, 66, 65, 67, 2, 66, 65, 67, 2, 66]  # Integer, Gauge32, Counter32, TimeTicks
ROWS = 24

def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports

def recording(data):
    lines = [f"{oid}|{tag}|{1000 + i}" for i, (oid, tag) in enumerate(zip(SCALARS, TAGS))]
    lines += [f"1.3.6.1.2.1.2.2.1.2.{r}|4|eth{r}" for r in range(1, ROWS + 1)]
    lines += [f"1.3.6.1.2.1.2.2.1.10.{r}|65|{r * 1000}" for r in range(1, ROWS + 1)]
    lines += [f"1.3.6.1.2.1.2.2.1.16.{r}|65|{r * 2000}" for r in range(1, ROWS + 1)]
    # snmpsim wants its records in OID order.
    key = lambda l: [int(x) for x in l.split("|")[0].split(".")]
    with open(os.path.join(data, "public.snmprec"), "w") as f:
        f.write("\n".join(sorted(lines, key=key)) + "\n")
    os.chmod(os.path.join(data, "public.snmprec"), 0o644)

def device_sims():
    """device-sim --snmp, one process per side, `agents` agents on ports it picks."""
    out = []
    for _ in range(2):
        p, addresses = start_device_sim(build, agents, ["--snmp", "--listen", "127.0.0.1:0"])
        out.append((p, [int(a.rsplit(":", 1)[1]) for a in addresses]))
    return out

def start_sims(tmp, ports, side):
    procs = []
    for k in range(sims):
        mine = ports[k::sims]
        if not mine:
            continue
        cache = os.path.join(tmp, f"cache-{side}{k}")
        os.makedirs(cache)
        shutil.chown(cache, "nobody", "nogroup")
        args = ["snmpsimd", f"--data-dir={tmp}/data", f"--cache-dir={cache}", "--process-user=nobody",
                "--process-group=nogroup"] + [f"--agent-udpv4-endpoint=127.0.0.1:{p}" for p in mine]
        log = open(os.path.join(tmp, f"sim-{side}{k}.log"), "w")
        procs.append((subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), mine[-1], log.name))
    for p, last, log in procs:
        deadline = time.monotonic() + 120
        while f"127.0.0.1:{last}," not in open(log).read():
            if time.monotonic() > deadline or p.poll() is not None:
                raise SystemExit(f"snmpsimd did not start (see {log})")
            time.sleep(0.2)
    return [p for p, _, _ in procs]

def collectd_config(tmp, ports, csv):
    conf = os.path.join(tmp, "collectd.conf")
    with open(conf, "w") as f:
        f.write(f'''Hostname "bench"
FQDNLookup false
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 10
ReadThreads 16
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "{tmp}/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{csv}"
  StoreRates false
</Plugin>
LoadPlugin snmp
<Plugin snmp>
''')
        for i, oid in enumerate(SCALARS, 1):
            f.write(f'  <Data "s{i}">\n    Type "gauge"\n    Table false\n    Instance "s{i}"\n    Values ".{oid}"\n  </Data>\n')
        f.write('  <Data "if">\n    Type "if_octets"\n    Table true\n    Instance ".1.3.6.1.2.1.2.2.1.2"\n'
                '    Values ".1.3.6.1.2.1.2.2.1.10" ".1.3.6.1.2.1.2.2.1.16"\n  </Data>\n')
        collect = " ".join(f'"s{i}"' for i in range(1, 11)) + ' "if"'
        for n, p in enumerate(ports):
            f.write(f'  <Host "a{n}">\n    Address "127.0.0.1:{p}"\n    Version 2\n    Community "public"\n'
                    f'    Collect {collect}\n    Interval 10\n    Timeout 2\n    Retries 1\n  </Host>\n')
        f.write("</Plugin>\n")
    return conf

def daemon_config(tmp, ports, health):
    """edgepolld's config: one snmp device per agent, the same OIDs snmp-bench reads, storage only."""
    with open(os.path.join(tmp, "community"), "w") as f:
        f.write("public")
    os.chmod(os.path.join(tmp, "community"), 0o600)
    scalars = ", ".join(f'{{ name = "s{i}", oid = "{oid}" }}' for i, oid in enumerate(SCALARS, 1))
    lines = ['[node]\nid = "snmp-bench"\n', f'[storage]\npath = "{tmp}/state/edgepoll.db"\n',
             f'[health]\nport = {health}\n', f'[control]\nsocket = "{tmp}/control.sock"\n']
    for n, p in enumerate(ports):
        lines.append(f'''[[device]]
id = "a{n}"
protocol = "snmp"
interval = "10s"
timeout = "2s"
  [device.snmp]
  agent = "127.0.0.1:{p}"
  version = "2c"
  community_file = "{tmp}/community"
  retries = 1
  metrics = [ {scalars} ]
  [[device.snmp.tables]]
  name = "if"
  index_tag = "ifIndex"
  max_repetitions = 25
  columns = [ {{ name = "in_octets", oid = "1.3.6.1.2.1.2.2.1.10", rate = true, unit = "B/s" }},
              {{ name = "out_octets", oid = "1.3.6.1.2.1.2.2.1.16", rate = true, unit = "B/s" }} ]
  tags = [ {{ name = "ifDescr", oid = "1.3.6.1.2.1.2.2.1.2", format = "text" }} ]
''')
    os.makedirs(os.path.join(tmp, "state"), exist_ok=True)
    path = os.path.join(tmp, "edgepoll.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path

def scrape(port):
    """/metrics as {name{labels}: value}; {} when the daemon does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out

def collectd_polls(csv):
    n = 0
    for path in glob.glob(os.path.join(csv, "*", "snmp", "gauge-s1-*")):
        with open(path) as f:
            n += max(0, sum(1 for _ in f) - 1)  # a header line, then one line per poll
    return n

tmp = tempfile.mkdtemp(prefix="snmp-bench-")
os.chmod(tmp, 0o755)
os.makedirs(os.path.join(tmp, "data"))
os.chmod(os.path.join(tmp, "data"), 0o755)
csv = tempfile.mkdtemp(prefix="snmp-bench-csv-", dir="/dev/shm")
recording(os.path.join(tmp, "data"))
procs, collectd, daemon = [], None, None
try:
    if sim == "device-sim":
        (e_sim, e_ports), (c_sim, c_ports) = device_sims()
        procs = [e_sim, c_sim]
    else:
        ports = free_ports(2 * agents)
        e_ports, c_ports = ports[:agents], ports[agents:]
        procs = start_sims(tmp, e_ports, "edgepoll") + start_sims(tmp, c_ports, "collectd")
    with open(os.path.join(tmp, "agents"), "w") as f:
        f.write("".join(f"127.0.0.1:{p}\n" for p in e_ports))
    collectd = subprocess.Popen(["collectd", "-f", "-C", collectd_config(tmp, c_ports, csv)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if edgepoll == "bench":
        bench = subprocess.Popen([f"{build}/bench/snmp/snmp-bench", "--agents-file", os.path.join(tmp, "agents"),
                                  "--seconds", str(seconds), "--warmup", str(warmup)], stdout=subprocess.PIPE, text=True)
        assert bench.stdout.readline().strip() == "window_start=1"
        c0, ccpu0, t0, load0 = collectd_polls(csv), cpu_seconds(collectd.pid), time.monotonic(), load_average()
        figures = dict(l.strip().split("=", 1) for l in bench.stdout if "=" in l)
        c1, ccpu1, t1 = collectd_polls(csv), cpu_seconds(collectd.pid), time.monotonic()
        bench.wait()
    else:
        health = free_port()
        daemon = subprocess.Popen([f"{build}/appliance/edgepolld", "--config", daemon_config(tmp, e_ports, health)],
                                  stdout=open(os.path.join(tmp, "daemon.log"), "w"), stderr=subprocess.STDOUT)
        wait_until(lambda: scrape(health).get("edgepoll_polls_total", 0) > 0, 120, "the daemon's first poll", 0.2)
        time.sleep(warmup)
        m0, ecpu0, rss0 = scrape(health), cpu_seconds(daemon.pid), rss_bytes(daemon.pid)
        c0, ccpu0, t0, load0 = collectd_polls(csv), cpu_seconds(collectd.pid), time.monotonic(), load_average()
        perf = None
        if os.environ.get("PERF_OUT"):
            perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499", "-g", "-o",
                                     os.environ["PERF_OUT"] + ".data", "-p", str(daemon.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        m1, ecpu1 = scrape(health), cpu_seconds(daemon.pid)
        c1, ccpu1, t1 = collectd_polls(csv), cpu_seconds(collectd.pid), time.monotonic()
        d = {k: m1.get(k, 0) - m0.get(k, 0) for k in m1}
        polls, failed, undecoded = (d.get("edgepoll_polls_total", 0), d.get("edgepoll_poll_failures_total", 0),
                                    d.get("edgepoll_decode_failures_total", 0))
        late = d.get('edgepoll_poll_ticks_skipped_total{kind="late"}', 0)
        busy = d.get('edgepoll_poll_ticks_skipped_total{kind="busy"}', 0)
        figures = dict(edgepoll_ok=int(polls - failed - undecoded), edgepoll_cpu_s=ecpu1 - ecpu0,
                       edgepoll_window_s=t1 - t0, edgepoll_rss_bytes=rss_bytes(daemon.pid),
                       edgepoll_rss_per_agent_bytes=float("nan"), edgepoll_failed=int(failed),
                       edgepoll_decode_failed=int(undecoded), edgepoll_readings=int(d.get("edgepoll_readings_total", 0)),
                       edgepoll_skipped_busy=int(busy), edgepoll_shed_late=int(late),
                       edgepoll_snmp_timeouts=int(d.get("edgepoll_snmp_timeouts_total", 0)))
    c_rss = rss_bytes(collectd.pid)
    if edgepoll == "daemon" and os.environ.get("PERF_OUT"):
        with open(os.environ["PERF_OUT"], "w") as out:
            subprocess.run(["perf", "report", "-i", os.environ["PERF_OUT"] + ".data", "--no-children", "--stdio",
                            "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.7"],
                           stdout=out, stderr=subprocess.DEVNULL)
    sim_cpu = sum(cpu_seconds(p.pid) for p in procs)
    with open(os.path.join(tmp, "collectd.log")) as log:
        c_errors = sum(1 for line in log if "error" in line.lower())
finally:
    if daemon:
        daemon.terminate()
        daemon.wait(timeout=60)
    if collectd:
        collectd.terminate()
        collectd.wait(timeout=60)
    for p in procs:
        p.terminate()
        p.wait(timeout=30)
    shutil.rmtree(csv, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)

window = t1 - t0
sim_name = "device-sim --snmp process" if sim == "device-sim" else f"{sims} snmpsimd processes"
sim_procs = "2 device-sim" if sim == "device-sim" else f"{2 * sims} snmpsimd"
e_polls, e_cpu = int(figures["edgepoll_ok"]), float(figures["edgepoll_cpu_s"])
e_cpu = e_cpu * window / float(figures["edgepoll_window_s"])
c_polls, c_cpu = c1 - c0, ccpu1 - ccpu0
e = dict(pps=e_polls / window, ppc=e_polls / e_cpu if e_cpu else 0, k=e_cpu * 1000 / max(1, e_polls),
         rss=float(figures["edgepoll_rss_bytes"]) / agents, added=float(figures["edgepoll_rss_per_agent_bytes"]))
c = dict(pps=c_polls / window, ppc=c_polls / c_cpu if c_cpu else 0, k=c_cpu * 1000 / max(1, c_polls),
         rss=c_rss / agents, added=None)
print(f"{agents} SNMPv2c agents for edgepoll and {agents} for collectd at 1 poll per 10 s, each poll 10 scalar OIDs "
      f"plus a {ROWS}-row table walk (3 columns); both at once, each against its own {sim_name}; "
      f"{window:.1f} s window after {warmup:.0f} s warm-up; load average {load0} at its start. edgepoll is "
      + ("snmp-bench (the client parts on one loop)" if edgepoll == "bench" else
         "the daemon, edgepolld (devices in its supervision tree, readings into its SQLite outbox)")
      + ". Polls are complete polls (edgepoll: scalars and table decoded; collectd: csv lines of one scalar).")
print()
print("| figure | edgepoll | collectd 5.12 snmp | edgepoll / collectd |")
print("|---|---:|---:|---:|")
for name, key, better in [("polls completed per second", "pps", "higher"),
                          ("polls per CPU-second", "ppc", "higher"),
                          ("CPU-seconds per 1,000 polls", "k", "lower"),
                          ("RSS per agent (bytes, whole process / agents)", "rss", "lower")]:
    a, b = e[key], c[key]
    print(f"| {name} | {a:,.3f} | {b:,.3f} | {a / b if b else float('inf'):.2f}x ({better} is better) |")
print()
added = "" if e["added"] != e["added"] else f"RSS added per agent {e['added']:,.0f} bytes; "  # nan: not measured
print(f"edgepoll: {added}failed polls {figures['edgepoll_failed']}, "
      f"decode failures {figures['edgepoll_decode_failed']}, readings {figures['edgepoll_readings']}, "
      + ", ".join(f"{k.replace('edgepoll_', '')} {v}" for k, v in figures.items() if k.startswith("edgepoll_error_")
                  or "skipped" in k or "shed" in k or "timeouts" in k))
print(f"collectd: {c_errors} error lines in its log; CPU share {c_cpu / window:.3f} cores, edgepoll "
      f"{e_cpu / window:.3f} cores; the simulators ({sim_procs}) used {sim_cpu:.1f} CPU-seconds in all")
PY
