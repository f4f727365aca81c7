"""What the bench scripts read about other processes (collectd, simulators):
CPU-seconds used (/proc/PID/stat utime + stime) and resident memory (VmRSS).
The C++ benches read their own through proc_stats.hpp."""
import os

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
