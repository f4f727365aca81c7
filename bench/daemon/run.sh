#!/usr/bin/env bash
# The whole daemon as a user runs it: edgepolld (config generated as scripts/demo
# does) polling N device-sim devices at 1 Hz into its SQLite outbox and a
# 3-broker kafka-sandbox, and, in the same run against the same device-sim and
# sandbox, collectd 5.12 curl_json + write_kafka (fire and forget, no disk).
# A kcat consumer per topic counts what arrives; edgepoll's records carry the
# poll time as their timestamp, so arrival - timestamp is poll -> consumed
# (an upper bound of poll -> Kafka ack). Polls are counted by device-sim
# (/stats), CPU (utime+stime, every thread) and RSS of each whole process from
# /proc. Prints markdown tables on stdout.
#   bench/daemon/run.sh                                2,000 devices each, 30 s window
#   DEVICES=10000 COLLECTD_DEVICES=2000 bench/daemon/run.sh
#   MODE=backlog DEVICES=10000 COLLECTD_DEVICES=0 bench/daemon/run.sh
#       brokers down OUTAGE (60) s, then up: time to drain the outbox back to its
#       steady level while polling goes on, beside kcat producing as many records
#   EDGEPOLL_BUILD_DIR=build/x bench/daemon/run.sh      (an existing build dir)
#   INTERVAL=10 DEVICES=10000 COLLECTD_DEVICES=0 bench/daemon/run.sh
#       every device polled every 10 s: the memory of 10,000 devices on a
#       machine too busy to serve them 10,000 polls a second beside device-sim
#       (the RSS row is per device; 1 Hz holds more in flight)
#   MODE=instructions DEVICES=50 bench/daemon/run.sh
#       the daemon under callgrind (valgrind): instructions per poll of each
#       thread and of the event loop's parts, counts that a loaded machine
#       does not move (recommended: 50 devices, which callgrind keeps up with)
# Env: SECONDS_EACH (30), WARMUP (10), PORTS (100), OUTAGE (60), INTERVAL (1, seconds), DRAIN_RATE
# ([kafka] drain_rate; the daemon's default when unset), MAX_IN_FLIGHT and
# FETCH_BATCH ([kafka] max_in_flight, fetch_batch; likewise), SYNCHRONOUS and
# BATCH_DELAY_MS ([storage] synchronous, batch_max_delay_ms),
# PERF_OUT (a file: the daemon's flat perf profile over the window, perf record
# -e cpu-clock; package linux-perf), EDGEPOLLD (another daemon binary, e.g. an
# older build to compare with).
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
DEVICES=${DEVICES:-2000}
COLLECTD_DEVICES=${COLLECTD_DEVICES:-$DEVICES}
SECONDS_EACH=${SECONDS_EACH:-30}
WARMUP=${WARMUP:-10}
PORTS=${PORTS:-100}
MODE=${MODE:-steady}
OUTAGE=${OUTAGE:-60}
INTERVAL=${INTERVAL:-1}

if [[ -n "${EDGEPOLL_BUILD_DIR:-}" ]]; then
  build=$(cd "$repo" && realpath "$EDGEPOLL_BUILD_DIR")
  cmake --build "$build" -j "$jobs" --target edgepolld device-sim kafka-sandbox >/dev/null
else
  "$repo/scripts/setup"
  configure_and_build default edgepolld device-sim kafka-sandbox >/dev/null
  build="$repo/build/default"
fi
command -v collectd >/dev/null || { echo "collectd missing: apt-get install -y collectd-core libyajl2" >&2; exit 1; }
command -v kcat >/dev/null || { echo "kcat missing: apt-get install -y kcat" >&2; exit 1; }
if [[ $MODE == instructions ]]; then
  command -v valgrind >/dev/null || { echo "valgrind missing: apt-get install -y valgrind" >&2; exit 1; }
fi
if [[ -n "${PERF_OUT:-}" ]]; then
  command -v perf >/dev/null || { echo "perf missing: apt-get install -y linux-perf" >&2; exit 1; }
  PERF_OUT=$(realpath -m "$PERF_OUT")
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$repo/bench/support" python3 "$repo/bench/daemon/daemon_bench.py" "$build" "$MODE" "$DEVICES" \
  "$COLLECTD_DEVICES" "$SECONDS_EACH" "$WARMUP" "$PORTS" "$OUTAGE" "${DRAIN_RATE:-}" "${SYNCHRONOUS:-}" "${PERF_OUT:-}" "${BATCH_DELAY_MS:-}" "$INTERVAL"
