#!/usr/bin/env bash
# Store benchmarks side by side with the sqlite3 shell in the same run:
#   ingest  - edgepoll's BatchWriter (batched transactions, 100-byte payloads,
#             100 devices) vs the sqlite3 shell running the same INSERTs and
#             device_state upserts, one transaction per 1,000-row batch, in a
#             copy of an empty edgepoll store (same schema), WAL, synchronous=NORMAL;
#   drain   - fetch past a cursor + delete batches of 1,000 through the writer vs the shell
#             selecting and deleting the same batches;
#   bytes on disk per stored reading for both files.
# Prints a markdown table (edgepoll, sqlite3 shell, ratio) on stdout.
#   bench/storage/run.sh [readings]     (default 1,000,000)
#   EDGEPOLL_BUILD_DIR=build/mine bench/storage/run.sh   (build in that dir)
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
n=${1:-1000000}
if [[ -n "${EDGEPOLL_BUILD_DIR:-}" ]]; then
  build=$EDGEPOLL_BUILD_DIR
  cmake --build "$build" -j "$jobs" --target storage-bench >/dev/null
else
  "$repo/scripts/setup"
  configure_and_build default storage-bench >/dev/null
  build=$repo/build/default
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results

"$build/bench/storage/storage-bench" "$work" "$n" >>"$results"

# The reference: the same schema and the same statements through the sqlite3 shell.
python3 - "$work" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
batch, payload = 1000, "X'" + "70" * 100 + "'"
with open(f"{work}/ingest.sql", "w") as f:
    f.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n")
    seq = {}
    for start in range(0, n, batch):
        f.write("BEGIN IMMEDIATE;\n")
        for i in range(start, min(n, start + batch)):
            d = f"device-{i % 100:03}"
            seq[d] = seq.get(d, 0) + 1
            f.write(f"INSERT INTO outbox(device_id,seq,ts_ms,payload) VALUES('{d}',{seq[d]},{i},{payload});\n")
        for d in sorted({f"device-{i % 100:03}" for i in range(start, min(n, start + batch))}):
            f.write(f"INSERT INTO device_state(device_id,last_seq) VALUES('{d}',{seq[d]}) "
                    "ON CONFLICT(device_id) DO UPDATE SET last_seq=excluded.last_seq;\n")
        f.write("COMMIT;\n")
with open(f"{work}/drain.sql", "w") as f:
    f.write("PRAGMA synchronous=NORMAL;\n.output /dev/null\n")
    # As the producer does: read past its cursor, delete the acknowledged range.
    for start in range(0, n, batch):
        f.write(f"SELECT id, device_id, seq, ts_ms, payload FROM outbox WHERE id > {start} ORDER BY id LIMIT {batch};\n"
                "BEGIN IMMEDIATE;\n"
                f"DELETE FROM outbox WHERE id BETWEEN {start + 1} AND {start + batch};\n"
                "COMMIT;\n")
PY
now() { date +%s.%N; }
cp "$work/template.db" "$work/ref.db"  # an empty store of edgepoll's own schema
t0=$(now); sqlite3 "$work/ref.db" <"$work/ingest.sql" >/dev/null; t1=$(now)
ref_bytes=$(stat -c %s "$work/ref.db")
t2=$(now); sqlite3 "$work/ref.db" <"$work/drain.sql" >/dev/null; t3=$(now)
left=$(sqlite3 "$work/ref.db" "SELECT count(*) FROM outbox")
[[ "$left" == 0 ]] || { echo "reference drain left $left rows" >&2; exit 1; }
python3 - "$t0" "$t1" "$t2" "$t3" "$ref_bytes" "$n" >>"$results" <<'PY'
import sys
t0, t1, t2, t3, size, n = map(float, sys.argv[1:])
print(f"sqlite3_ingest_per_s={n / (t1 - t0):.0f}")
print(f"sqlite3_drain_per_s={n / (t3 - t2):.0f}")
print(f"sqlite3_bytes_per_reading={size / n:.1f}")
PY

python3 - "$results" <<'PY'
import sys
vals = dict(line.strip().split("=", 1) for line in open(sys.argv[1]) if "=" in line)
print(f"{int(vals['edgepoll_readings']):,} readings of 100 bytes, 100 devices, batches of 1,000")
print()
print("| figure | edgepoll | sqlite3 shell | edgepoll / sqlite3 |")
print("|---|---:|---:|---:|")
rows = [
    ("ingest, synchronous=NORMAL (readings/s)", "ingest_per_s", "higher"),
    ("drain: fetch past a cursor + delete (readings/s)", "drain_per_s", "higher"),
    ("bytes on disk per stored reading", "bytes_per_reading", "lower"),
]
for name, key, better in rows:
    a, b = float(vals["edgepoll_" + key]), float(vals["sqlite3_" + key])
    print(f"| {name} | {a:,.1f} | {b:,.1f} | {a / b:.2f}x ({better} is better) |")
print(f"| ingest, synchronous=FULL (readings/s) | {float(vals['edgepoll_ingest_full_per_s']):,.0f} | - | - |")
PY
