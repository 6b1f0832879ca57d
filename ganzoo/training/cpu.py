"""How much of the machine a run got: its own CPU time, and the time the
hypervisor stole from the virtual machine.

A time-budgeted score (`--minutes`) depends on both: on a shared cloud VM the
same five minutes can buy half the steps on a bad hour. The steal comes from
Linux's `/proc/stat`; elsewhere it is unknown (None) and only the process's
CPU time is kept.
"""

import time

PROC_STAT = "/proc/stat"


def read_cpu_jiffies(path=PROC_STAT):
    """`(steal, total)` clock ticks of all CPUs since boot, or None where the
    file or its steal field is missing (not Linux, or an old kernel)."""
    try:
        with open(path) as f:
            fields = f.readline().split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal [guest guest_nice]:
    # guest time is already counted in user, so the total stops at steal.
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    try:
        ticks = [int(v) for v in fields[1:9]]
    except ValueError:
        return None
    return ticks[7], sum(ticks)


def steal_fraction(before, after):
    """Share of all CPU time stolen between two `read_cpu_jiffies` readings;
    None when either is unknown or no tick passed."""
    if before is None or after is None:
        return None
    total = after[1] - before[1]
    if total <= 0:
        return None
    return max(0.0, min(1.0, (after[0] - before[0]) / total))


class CpuMeter:
    """Process CPU seconds and steal fraction over one interval (an epoch)."""

    def __init__(self, path=PROC_STAT):
        self.path = path
        self.start()

    def start(self):
        self.cpu_started = time.process_time()
        self.jiffies_started = read_cpu_jiffies(self.path)

    def lap(self):
        """`{"cpu_seconds": s, "steal": f}` since `start` (steal only when known)."""
        lap = {"cpu_seconds": round(time.process_time() - self.cpu_started, 3)}
        steal = steal_fraction(self.jiffies_started, read_cpu_jiffies(self.path))
        if steal is not None:
            lap["steal"] = round(steal, 4)
        return lap
