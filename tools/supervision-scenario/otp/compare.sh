#!/usr/bin/env bash
# Compares a scenario runner (the C++ tools/supervision-scenario) with Erlang/OTP.
#
#   compare.sh RUNNER [SCENARIO.json ...]          run OTP (scenario.escript) and RUNNER
#   compare.sh --golden RUNNER [SCENARIO.json ...] compare RUNNER with the stored
#                                                  <scenario>.expected traces (no Erlang)
#   compare.sh --write-expected [SCENARIO.json ...] regenerate the .expected traces with OTP
#
# Scenarios default to tests/supervision/scenarios/*.json. Both traces go through
# `scenario.escript --canon` so only content differs, not spacing. Prints
# "N passed, M failed" and exits non-zero on any mismatch.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
escript_runner=(escript "$here/scenario.escript")

mode=live
case "${1:-}" in
  --golden) mode=golden; shift ;;
  --write-expected) mode=write; shift ;;
esac

runner=""
if [[ $mode != write ]]; then
  runner="${1:?usage: compare.sh [--golden] RUNNER [SCENARIO.json ...]}"
  shift
  [[ -x $runner ]] || { echo "compare.sh: $runner is not an executable" >&2; exit 2; }
fi

if [[ $# -gt 0 ]]; then
  scenarios=("$@")
else
  scenarios=("$repo"/tests/supervision/scenarios/*.json)
fi

# The golden comparison canonicalises with canon.py (the same spelling as
# scenario.escript --canon): no Erlang, and no VM start per trace, which under
# a loaded machine took seconds each.
if [[ $mode == golden ]]; then
  canon() { python3 "$here/canon.py"; }
else
  canon() { "${escript_runner[@]}" --canon; }
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
for scenario in "${scenarios[@]}"; do
  name="$(basename "$scenario" .json)"
  expected="${scenario%.json}.expected"
  if [[ $mode == write ]]; then
    "${escript_runner[@]}" < "$scenario" > "$expected"
    echo "wrote $expected"
    continue
  fi
  if [[ $mode == golden ]]; then
    canon < "$expected" > "$tmp/otp"
  else
    "${escript_runner[@]}" < "$scenario" | canon > "$tmp/otp"
  fi
  # A crashing runner must show up as a failure with its stderr, not stop the loop.
  status=0
  "$runner" < "$scenario" > "$tmp/raw" 2> "$tmp/err" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "runner exited with status $status on $name:" >&2
    sed 's/^/    /' "$tmp/err" >&2
  fi
  canon < "$tmp/raw" > "$tmp/cpp"
  if diff -u --label "otp/$name" --label "runner/$name" "$tmp/otp" "$tmp/cpp" && [[ $status -eq 0 ]]; then
    passed=$((passed + 1))
  else
    echo "FAIL $name" >&2
    failed=$((failed + 1))
  fi
done

[[ $mode == write ]] && exit 0
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
