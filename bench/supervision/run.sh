#!/usr/bin/env bash
# Runtime benchmarks side by side with Erlang/OTP 25 in the same run: restart
# latency, 100k idle children (start time, memory), message throughput.
# Prints a markdown table (edgepoll, OTP, ratio) on stdout.
#   bench/supervision/run.sh            (builds the default preset first)
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
"$repo/scripts/setup"
configure_and_build default supervision-bench >/dev/null

results=$(mktemp)
trap 'rm -f "$results"' EXIT
"$repo/build/default/bench/supervision/supervision-bench" >>"$results"
bash "$repo/bench/supervision/otp/run.sh" >>"$results"

python3 - "$results" <<'PY'
import sys
vals = {}
for line in open(sys.argv[1]):
    if "=" in line:
        k, v = line.strip().split("=", 1)
        vals[k] = v
rows = [
    ("restart latency, kill -> replacement running, median (ns)", "restart_latency_median_ns", "restart_latency_median_ns", "lower"),
    ("restart latency p99 (ns)", "restart_latency_p99_ns", "restart_latency_p99_ns", "lower"),
    ("memory per idle supervised process at 100k (bytes)", "memory_heap_per_child_bytes", "memory_processes_per_child_bytes", "lower"),
    ("start 100k children under simple_one_for_one (ms)", "start_children_total_ms", "start_children_total_ms", "lower"),
    ("start_child, mean (ns)", "start_child_mean_ns", "start_child_mean_ns", "lower"),
    ("ping-pong round trips between two processes (/s)", "pingpong_roundtrips_per_s", "pingpong_roundtrips_per_s", "higher"),
    ("one-way messages to one process (/s)", "oneway_messages_per_s", "oneway_messages_per_s", "higher"),
]
print(f"OTP release {vals.get('otp_release', '?')}; edgepoll RSS per child {float(vals['edgepoll_memory_rss_per_child_bytes']):.0f} B (heap figure below)")
print()
print("| figure | edgepoll | Erlang/OTP | edgepoll / OTP |")
print("|---|---:|---:|---:|")
for name, ours, theirs, better in rows:
    a, b = float(vals["edgepoll_" + ours]), float(vals["otp_" + theirs])
    print(f"| {name} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x ({better} is better) |")
PY
