#!/usr/bin/env bash
# Outbox -> Kafka benchmarks with kcat as the reference, in the same run and
# against the same kafka-sandbox cluster:
#   1. backlog drain: N readings in a SQLite outbox drained by edgepoll (deleted
#      after the ack) vs kcat producing the same records from a file (idempotent,
#      acks=all, lz4 on both sides);
#   2. poll-to-ack latency p50/p99 at 10,000 readings/s (edgepoll only: kcat has
#      no outbox to time).
#   bench/kafka/run.sh                      (builds the default preset first)
#   BUILD=/path/to/build bench/kafka/run.sh (uses an existing build dir)
# Env: READINGS (200000), RUNS (3), RATE (10000), DURATION (10 s).
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
if [[ -z "${BUILD:-}" ]]; then
  "$repo/scripts/setup"
  configure_and_build default kafka-sandbox kafka-drain-bench >/dev/null
  BUILD="$repo/build/default"
fi
readings=${READINGS:-200000}
runs=${RUNS:-3}
work=$(mktemp -d)
sandbox_pid=
cleanup() { [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BUILD/tools/kafka-sandbox/kafka-sandbox" --brokers 3 </dev/null >"$work/sandbox.out" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 100); do grep -q '^bootstrap=' "$work/sandbox.out" && break; sleep 0.05; done
bootstrap=$(sed -n 's/^bootstrap=//p' "$work/sandbox.out")
echo "kafka-sandbox: $bootstrap (3 brokers); $readings readings of 100 B, 1000 devices, $runs runs"

ours=() theirs=()
for run in $(seq "$runs"); do
  # A fresh topic per run and side: the mock keeps little per partition.
  line=$("$BUILD/bench/kafka/kafka-drain-bench" --bootstrap "$bootstrap" --topic "ours.$run" \
           --readings "$readings" --kcat-file "$work/records.tsv" --db "$work/outbox.db")
  ours+=("$(sed -n 's/.*readings_per_s=\([0-9]*\).*/\1/p' <<<"$line")")
  t0=$(date +%s.%N)
  kcat -P -b "$bootstrap" -t "kcat.$run" -K $'\t' -z lz4 -X enable.idempotence=true \
       -X acks=all -X linger.ms=5 -l "$work/records.tsv"
  t1=$(date +%s.%N)
  theirs+=("$(python3 -c "print(round($readings / ($t1 - $t0)))")")
  echo "run $run: edgepoll ${ours[-1]} readings/s, kcat ${theirs[-1]} records/s"
done
latency=$("$BUILD/bench/kafka/kafka-drain-bench" --bootstrap "$bootstrap" --topic latency \
            --mode latency --rate "${RATE:-10000}" --seconds "${DURATION:-10}" --db "$work/lat.db")
echo "$latency"

python3 - "${ours[*]}" "${theirs[*]}" "$latency" <<'PY'
import statistics, sys
ours = [int(x) for x in sys.argv[1].split()]
theirs = [int(x) for x in sys.argv[2].split()]
lat = dict(kv.split("=") for kv in sys.argv[3].split())
o, t = statistics.median(ours), statistics.median(theirs)
print()
print("| figure | edgepoll | kcat | edgepoll / kcat |")
print("|---|---:|---:|---:|")
print(f"| backlog drain, median of {len(ours)} runs (readings/s) | {o:,.0f} | {t:,.0f} | {o/t:.2f}x (higher is better) |")
print(f"| poll-to-ack latency p50 at {float(lat['ours_latency_rate']):,.0f}/s (ms) | {float(lat['p50_ms']):.2f} | n/a | |")
print(f"| poll-to-ack latency p99 at {float(lat['ours_latency_rate']):,.0f}/s (ms) | {float(lat['p99_ms']):.2f} | n/a | |")
PY
