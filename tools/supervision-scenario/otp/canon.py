#!/usr/bin/env python3
"""Rewrites {"step": N, "alive": [...]} trace lines in one fixed spelling, as
scenario.escript --canon does, without starting an Erlang VM: the golden
comparison (compare.sh --golden) then needs no Erlang and no VM start per
trace. Anything else is kept verbatim, marked, so that diff shows it."""
import json
import sys

for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    try:
        m = json.loads(line)
    except ValueError:
        print("NOT JSON: " + line)
        continue
    if (isinstance(m, dict) and set(m) == {"step", "alive"} and isinstance(m["step"], int)
            and not isinstance(m["step"], bool) and isinstance(m["alive"], list)):
        print(json.dumps({"step": m["step"], "alive": m["alive"]}))
    else:
        print("NOT A TRACE LINE: " + line)
