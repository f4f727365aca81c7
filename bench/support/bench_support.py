"""Helpers the bench/*/run.sh scripts share: /proc sampling, the peers they
start (device-sim, kafka-sandbox), collectd's config blocks, percentiles.

The scripts put bench/support on sys.path and `import bench_support`."""
import os
import socket
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def context_switches(pid):
    """Voluntary + involuntary context switches of every live thread of the
    process, from /proc/<pid>/task/*/status: how often its threads go to sleep
    and wake, a figure the machine's load moves far less than CPU time."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return total


def rss_bytes(pid):
    """VmRSS of the whole process, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def wait_until(condition, timeout_s, what, every_s=0.05):
    """Polls `condition` until it is truthy; raises with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s} s")
        time.sleep(every_s)


def start_device_sim(build, listeners, extra=()):
    """device-sim on `listeners` loopback ports; returns (process, ["host:port", ...])."""
    sim = subprocess.Popen([f"{build}/tools/device-sim/device-sim", "--idle-timeout", "600",
                            "--listeners", str(listeners), *extra],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    addresses = [sim.stdout.readline().strip().split("=", 1)[1] for _ in range(listeners)]
    return sim, addresses


def start_kafka_sandbox(build, brokers=3, topics=()):
    """kafka-sandbox taking fault drills on stdin ("down all", "up all");
    returns (process, bootstrap). `sandbox_command` sends one drill."""
    args = [f"{build}/tools/kafka-sandbox/kafka-sandbox", "--brokers", str(brokers), "--stdin-commands"]
    for t in topics:
        args += ["--topic", t]
    sandbox = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    line = sandbox.stdout.readline().strip()
    if not line.startswith("bootstrap="):
        raise RuntimeError(f"kafka-sandbox did not start: {line!r}")
    return sandbox, line.split("=", 1)[1]


def sandbox_command(sandbox, command):
    sandbox.stdin.write(command + "\n")
    sandbox.stdin.flush()
    answer = sandbox.stdout.readline().strip()
    if not answer.startswith("ok"):
        raise RuntimeError(f"kafka-sandbox {command!r}: {answer}")


def served(address, prefix):
    """Requests device-sim served to devices whose id starts with `prefix`."""
    import json
    import urllib.request
    with urllib.request.urlopen(f"http://{address}/stats", timeout=30) as r:
        stats = json.load(r)
    return sum(n for d, n in stats["devices"].items() if d.startswith(prefix))


def collectd_header(tmp, interval=1):
    return f'''Hostname "bench"
FQDNLookup false
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval {interval}
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "{tmp}/collectd.log"
</Plugin>
'''


def collectd_curl_json(addresses, devices, prefix="c-"):
    """curl_json blocks for `devices` device-sim devices (temperature, humidity, pressure)."""
    out = ["LoadPlugin curl_json\n<Plugin curl_json>\n"]
    for i in range(devices):
        out.append(f'''  <URL "http://{addresses[i % len(addresses)]}/devices/{prefix}{i}">
    Instance "{prefix}{i}"
    Timeout 2000
    <Key "temperature">
      Type "temperature"
    </Key>
    <Key "humidity">
      Type "humidity"
    </Key>
    <Key "pressure">
      Type "pressure"
    </Key>
  </URL>
''')
    out.append("</Plugin>\n")
    return "".join(out)


def collectd_write_kafka(bootstrap, topic):
    """write_kafka into `topic`: librdkafka's defaults (fire and forget, no disk)."""
    return f'''LoadPlugin write_kafka
<Plugin write_kafka>
  Property "metadata.broker.list" "{bootstrap}"
  <Topic "{topic}">
    Format JSON
  </Topic>
</Plugin>
'''
