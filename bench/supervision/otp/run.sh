#!/usr/bin/env bash
# Runs every Erlang/OTP reference benchmark; prints `metric=value` lines on stdout
# (prefixed with `otp_`), the Erlang/OTP release first. Needs erlang-base (escript).
#   bench/supervision/otp/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
echo "otp_release=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')"
for bench in restart_latency start_and_memory message_throughput; do
  escript "$here/$bench.escript" | sed 's/^/otp_/'
done
