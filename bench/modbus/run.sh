#!/usr/bin/env bash
# N simulated Modbus units at 1 poll/s, 10 holding registers each (int16,
# float32, uint32, int16, float32, uint16, int16): edgepoll's Modbus client
# (ModbusTcpTransport + PollSchedule + ModbusDecoder, bench/modbus/modbus_bench.cpp)
# and collectd 5.12's modbus plugin (libmodbus) at the same time, each against
# its own device-sim --modbus with the same gateways x units layout (200 unit ids
# behind each gateway port, one connection per gateway for both). Requests are
# counted on the server side (device-sim's SIGUSR1 count); collectd sends one
# request per <Data> block, so a collectd poll of a device is 7 requests and
# edgepoll's (one merged read) is 1. CPU from /proc/<pid>/stat, RSS from
# /proc/<pid>/status; memory both as whole-process RSS / devices and as RSS added
# per device (edgepoll: over its RSS before the devices were made; collectd:
# over a collectd polling one device). Prints a markdown table on stdout.
#   bench/modbus/run.sh                                  1,000 devices each, 30 s window
#   DEVICES=10000 COLLECTD_DEVICES=1000 bench/modbus/run.sh
#   DEVICES=10000 COLLECTD_DEVICES=0 SIM_THREADS=2 bench/modbus/run.sh   (edgepoll alone)
#   EDGEPOLL_BUILD_DIR=build/x bench/modbus/run.sh       (an existing build dir)
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
DEVICES=${DEVICES:-1000}
COLLECTD_DEVICES=${COLLECTD_DEVICES:-$DEVICES}
SECONDS_EACH=${SECONDS_EACH:-30}
WARMUP=${WARMUP:-5}
UNITS_PER_GATEWAY=${UNITS_PER_GATEWAY:-200}
SIM_THREADS=${SIM_THREADS:-1}
MAX_OUTSTANDING=${MAX_OUTSTANDING:-1}   # edgepoll's requests in flight per gateway (collectd: always 1)

if [[ -n "${EDGEPOLL_BUILD_DIR:-}" ]]; then
  build=$(cd "$repo" && realpath "$EDGEPOLL_BUILD_DIR")
  cmake --build "$build" -j "$jobs" --target modbus-bench device-sim >/dev/null
else
  "$repo/scripts/setup"
  configure_and_build default modbus-bench device-sim >/dev/null
  build="$repo/build/default"
fi
command -v collectd >/dev/null || { echo "collectd missing: apt-get install -y collectd-core libmodbus5" >&2; exit 1; }
[[ -e /usr/lib/collectd/modbus.so ]] || { echo "collectd's modbus plugin is missing (collectd-core)" >&2; exit 1; }

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$repo/bench/support" python3 - "$build" "$DEVICES" "$SECONDS_EACH" "$WARMUP" "$UNITS_PER_GATEWAY" "$COLLECTD_DEVICES" "$SIM_THREADS" "$MAX_OUTSTANDING" <<'PY'
import math, os, signal, subprocess, sys, tempfile, time
from bench_support import cpu_seconds, rss_bytes

build, devices, seconds, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
per_gateway, c_devices, sim_threads, outstanding = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
FIELDS = [(0, "Int16"), (1, "Float"), (3, "Uint32"), (5, "Int16"), (6, "Float"), (8, "Uint16"), (9, "Int16")]

def start_sim(n):
    gateways = math.ceil(n / per_gateway)
    sim = subprocess.Popen([f"{build}/tools/device-sim/device-sim", "--modbus", "--listeners", str(gateways),
                            "--units", str(per_gateway), "--threads", sim_threads], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    addresses = [sim.stdout.readline().strip().split("=", 1)[1] for _ in range(gateways)]
    return sim, addresses

def requests(sim):
    sim.send_signal(signal.SIGUSR1)
    while True:
        line = sim.stdout.readline()
        if line.startswith("modbus_requests="):
            return int(line.split("=", 1)[1])

def collectd_config(tmp, addresses):
    conf = os.path.join(tmp, "collectd.conf")
    with open(conf, "w") as f:
        f.write(f'''Hostname "bench"
FQDNLookup false
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
ReadThreads {len(addresses)}
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "{tmp}/collectd.log"
</Plugin>
LoadPlugin modbus
<Plugin modbus>
''')
        for address, kind in FIELDS:
            f.write(f'''  <Data "r{address}">
    RegisterBase {address}
    RegisterType {kind}
    RegisterCmd ReadHolding
    Type "gauge"
    Instance "r{address}"
  </Data>
''')
        # Device n is unit 1 + n // gateways behind gateway n % gateways, as in modbus-bench.
        for g, a in enumerate(addresses):
            host, port = a.rsplit(":", 1)
            f.write(f'  <Host "gw{g}">\n    Address "{host}"\n    Port "{port}"\n    Interval 1\n')
            for n in range(g, c_devices, len(addresses)):
                f.write(f'    <Slave {1 + n // len(addresses)}>\n      Instance "c-{n}"\n')
                for address, _ in FIELDS:
                    f.write(f'      Collect "r{address}"\n')
                f.write("    </Slave>\n")
            f.write("  </Host>\n")
        f.write("</Plugin>\n")
    return conf

def collectd_baseline_rss():
    # collectd with one device, so that its per-device memory can be told from
    # what the process costs anyway (edgepoll's bench measures its own the same way).
    sim, addresses = start_sim(1)
    tmp = tempfile.mkdtemp(prefix="modbus-collectd-one-")
    os.chmod(tmp, 0o755)
    global c_devices
    saved, c_devices = c_devices, 1
    conf = collectd_config(tmp, addresses)
    c_devices = saved
    p = subprocess.Popen(["collectd", "-f", "-C", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    rss = rss_bytes(p.pid)
    p.terminate()
    p.wait(timeout=30)
    sim.terminate()
    sim.wait(timeout=30)
    return rss

with_collectd = c_devices > 0
c_base_rss = collectd_baseline_rss() if with_collectd else 0
e_sim, e_addresses = start_sim(devices)
c_sim, c_addresses = start_sim(c_devices) if with_collectd else (None, [])
out, collectd, c_errors = {}, None, 0
try:
    tmp = tempfile.mkdtemp(prefix="modbus-collectd-")
    os.chmod(tmp, 0o755)
    if with_collectd:
        collectd = subprocess.Popen(["collectd", "-f", "-C", collectd_config(tmp, c_addresses)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench = subprocess.Popen([f"{build}/bench/modbus/modbus-bench", "--sim", ",".join(e_addresses),
                              "--devices", str(devices), "--seconds", str(seconds), "--warmup", str(warmup),
                              "--max-outstanding", outstanding],
                             stdout=subprocess.PIPE, text=True)
    assert bench.stdout.readline().strip() == "window_start=1"
    c_count = (lambda: requests(c_sim)) if with_collectd else (lambda: 0)
    c_cpu_now = (lambda: cpu_seconds(collectd.pid)) if with_collectd else (lambda: 0.0)
    e0, c0, ccpu0, t0 = requests(e_sim), c_count(), c_cpu_now(), time.monotonic()
    figures = dict(l.strip().split("=", 1) for l in bench.stdout if "=" in l)
    e1, c1, ccpu1, t1 = requests(e_sim), c_count(), c_cpu_now(), time.monotonic()
    c_rss = rss_bytes(collectd.pid) if with_collectd else 0
    bench.wait()
    window = t1 - t0
    e_cpu = float(figures["edgepoll_cpu_s"]) * window / float(figures["edgepoll_window_s"])
    out["edgepoll"] = dict(polls_per_s=(e1 - e0) / window, cpu=e_cpu, window=window,
                           polls_per_cpu_s=(e1 - e0) / e_cpu,
                           rss_per_device=float(figures["edgepoll_rss_bytes"]) / devices,
                           rss_added_per_device=float(figures["edgepoll_rss_per_device_bytes"]))
    c_cpu = ccpu1 - ccpu0
    c_polls = (c1 - c0) / len(FIELDS)
    out["collectd"] = dict(polls_per_s=c_polls / window, cpu=c_cpu, window=window,
                           polls_per_cpu_s=c_polls / c_cpu if c_cpu else 0,
                           rss_per_device=c_rss / max(1, c_devices),
                           rss_added_per_device=(c_rss - c_base_rss) / max(1, c_devices - 1))
    if with_collectd:
        with open(os.path.join(tmp, "collectd.log")) as log:
            c_errors = sum(1 for line in log if "error" in line.lower())
finally:
    if collectd:
        collectd.terminate()
        collectd.wait(timeout=60)
    for s in (e_sim, c_sim):
        if s is None:
            continue
        s.terminate()
        s.wait(timeout=30)

e, c = out["edgepoll"], out["collectd"]
print(f"{devices} Modbus devices for edgepoll and {c_devices} for collectd at 1 poll/s, 10 holding registers each "
      f"(7 fields), {per_gateway} unit ids per gateway port (edgepoll max_outstanding {outstanding}), both at once, each against its own device-sim --modbus; "
      f"{window:.1f} s window after {warmup:.0f} s warm-up; requests counted by device-sim "
      f"(collectd: 7 per device poll, edgepoll: 1).")
print()
if with_collectd:
    print("| figure | edgepoll | collectd 5.12 modbus | edgepoll / collectd |")
    print("|---|---:|---:|---:|")
else:
    print("| figure | edgepoll (alone: COLLECTD_DEVICES=0) |")
    print("|---|---:|")
rows = [("device polls completed per second", "polls_per_s", "higher"),
        ("CPU-seconds per 1,000 polls", None, "lower"),
        ("polls per CPU-second", "polls_per_cpu_s", "higher"),
        ("RSS per device (bytes, whole process / devices)", "rss_per_device", "lower"),
        ("RSS added per device (bytes, above the process's own base)", "rss_added_per_device", "lower")]
for name, key, better in rows:
    if key is None:
        a = e["cpu"] * 1000 / max(1e-9, e["polls_per_s"] * e["window"])
        b = c["cpu"] * 1000 / max(1e-9, c["polls_per_s"] * c["window"])
    else:
        a, b = e[key], c[key]
    if with_collectd:
        print(f"| {name} | {a:,.3f} | {b:,.3f} | {a / b if b else float('inf'):.2f}x ({better} is better) |")
    else:
        print(f"| {name} | {a:,.3f} |")
print()
print(f"edgepoll: failed polls {figures['edgepoll_failed']}, "
      + ", ".join(f"{k.replace('edgepoll_', '')} {v}" for k, v in figures.items()
                  if "jitter" in k or "lateness" in k or "shed" in k or "skipped" in k
                  or k.endswith("rss_per_device_bytes") or k.endswith("connects")))
if with_collectd:
    print(f"collectd: {c_errors} error lines in its log; CPU share {c['cpu'] / c['window']:.3f} cores, "
          f"edgepoll {e['cpu'] / e['window']:.3f} cores")
else:
    print(f"edgepoll CPU share {e['cpu'] / e['window']:.3f} cores")
PY
