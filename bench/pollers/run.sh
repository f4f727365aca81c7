#!/usr/bin/env bash
# N simulated HTTP devices at 1 poll/s: edgepoll's pollers (HttpFetcher +
# PollSchedule + Decoder, bench/pollers/poll_bench.cpp) and collectd 5.12
# curl_json at the same time against the same device-sim (devices e-* and c-*). Polls are counted on
# the server side (device-sim /stats), CPU from /proc/<pid>/stat, RSS from
# /proc/<pid>/status. Prints a markdown table on stdout.
#   bench/pollers/run.sh                      1,000 devices each, 20 s window
#   DEVICES=10000 COLLECTD_DEVICES=2000 SECONDS_EACH=60 bench/pollers/run.sh
#                                             (collectd polls as many as it keeps up with)
#   EDGEPOLL_BUILD_DIR=build/pollers bench/pollers/run.sh   (an existing build dir)
#   HTTP_CLIENT=libcurl bench/pollers/run.sh  (every request through libcurl; default
#                                             plain: the fetcher's own client, as the daemon)
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
DEVICES=${DEVICES:-1000}
COLLECTD_DEVICES=${COLLECTD_DEVICES:-$DEVICES}
SECONDS_EACH=${SECONDS_EACH:-20}
WARMUP=${WARMUP:-3}
# Ports of the simulator. Field devices are distinct hosts; 10,000 devices behind
# one host:port make libcurl scan one long connection list per request, which
# is a property of that topology, not of polling (see RESULTS.md).
PORTS=${PORTS:-100}
HTTP_CLIENT=${HTTP_CLIENT:-plain}

if [[ -n "${EDGEPOLL_BUILD_DIR:-}" ]]; then
  build=$(cd "$repo" && realpath "$EDGEPOLL_BUILD_DIR")
  cmake --build "$build" -j "$jobs" --target pollers-bench device-sim >/dev/null
else
  "$repo/scripts/setup"
  configure_and_build default pollers-bench device-sim >/dev/null
  build="$repo/build/default"
fi
command -v collectd >/dev/null || { echo "collectd missing: apt-get install -y collectd-core libyajl2" >&2; exit 1; }
# Both pollers keep one connection (or more) per device open to the simulator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$repo/bench/support" python3 - "$build" "$DEVICES" "$SECONDS_EACH" "$WARMUP" "$PORTS" "$COLLECTD_DEVICES" "$HTTP_CLIENT" <<'PY'
import os, subprocess, sys, tempfile, time
from bench_support import collectd_curl_json, collectd_header, cpu_seconds, rss_bytes, served as served_at, start_device_sim

build, devices, seconds, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ports, c_devices, http_client = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]

sim, addresses = start_device_sim(build, ports)
address = addresses[0]

def served(prefix):
    return served_at(address, prefix)

def collectd_config(tmp):
    conf = os.path.join(tmp, "collectd.conf")
    with open(conf, "w") as f:
        f.write(collectd_header(tmp) + collectd_curl_json(addresses, c_devices))
    return conf

# Both run at the same time over the same window, so that load from anything
# else on the machine hits both alike.
out = {}
collectd = None
try:
    tmp = tempfile.mkdtemp(prefix="pollers-collectd-")
    os.chmod(tmp, 0o755)
    collectd = subprocess.Popen(["collectd", "-f", "-C", collectd_config(tmp)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench = subprocess.Popen([f"{build}/bench/pollers/pollers-bench", "--sim", ",".join(addresses),
                              "--devices", str(devices), "--seconds", str(seconds),
                              "--warmup", str(warmup), "--prefix", "e-",
                              "--http-client", http_client],
                             stdout=subprocess.PIPE, text=True)
    assert bench.stdout.readline().strip() == "window_start=1"
    e0, c0, ccpu0, t0 = served("e-"), served("c-"), cpu_seconds(collectd.pid), time.monotonic()
    figures = dict(l.strip().split("=", 1) for l in bench.stdout if "=" in l)
    e1, c1, ccpu1, t1 = served("e-"), served("c-"), cpu_seconds(collectd.pid), time.monotonic()
    c_rss = rss_bytes(collectd.pid)
    bench.wait()
    window = t1 - t0
    e_cpu = float(figures["edgepoll_cpu_s"]) * window / float(figures["edgepoll_window_s"])
    out["edgepoll"] = dict(polls_per_s=(e1 - e0) / window, cpu=e_cpu, window=window,
                           polls_per_cpu_s=(e1 - e0) / e_cpu,
                           rss_per_device=float(figures["edgepoll_rss_bytes"]) / devices,
                           failed=int(figures["edgepoll_failed"]))
    c_cpu = ccpu1 - ccpu0
    out["collectd"] = dict(polls_per_s=(c1 - c0) / window, cpu=c_cpu, window=window,
                           polls_per_cpu_s=(c1 - c0) / c_cpu if c_cpu else 0,
                           rss_per_device=c_rss / c_devices)
finally:
    if collectd:
        collectd.terminate()
        collectd.wait(timeout=60)
    sim.terminate()
    sim.wait(timeout=30)

e, c = out["edgepoll"], out["collectd"]
print(f"{devices} devices for edgepoll and {c_devices} for collectd at 1 poll/s, both at once against one "
      f"device-sim on {ports} ports; {window:.1f} s window after {warmup:.0f} s warm-up; polls counted by device-sim.")
print()
print("| figure | edgepoll | collectd 5.12 curl_json | edgepoll / collectd |")
print("|---|---:|---:|---:|")
rows = [("polls completed per second", "polls_per_s", "higher"),
        ("CPU-seconds per 1,000 polls", None, "lower"),
        ("polls per CPU-second", "polls_per_cpu_s", "higher"),
        ("RSS per device (bytes, whole process / devices)", "rss_per_device", "lower")]
for name, key, better in rows:
    if key is None:
        a = e["cpu"] * 1000 / (e["polls_per_s"] * e["window"])
        b = c["cpu"] * 1000 / max(1e-9, c["polls_per_s"] * c["window"])
    else:
        a, b = e[key], c[key]
    print(f"| {name} | {a:,.3f} | {b:,.3f} | {a / b if b else float('inf'):.2f}x ({better} is better) |")
print()
print(f"edgepoll: failed polls {e['failed']}, "
      + ", ".join(f"{k.replace('edgepoll_', '')} {v}" for k, v in figures.items()
                  if "jitter" in k or "lateness" in k or "shed" in k or "skipped" in k
                  or k.endswith("rss_per_device_bytes")))
PY
