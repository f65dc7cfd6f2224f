"""CPU time and memory of a running httpd, read from /proc.

CPU: the sum of utime+stime of the httpd parent and every child process,
taken from /proc/PID/task/TID/schedstat (the first field is the task's time
on a CPU in nanoseconds, user and system together). /proc/PID/stat has the
same sum in clock ticks (10 ms here), rounded down per process: with dozens
of prefork children that rounding alone can reach a few hundred
milliseconds per sample, more than the overhead being measured. Children
that exit between two samples would take their time with them; the sample
therefore records the set of PIDs and the parent's cutime+cstime (time of
reaped children, in ticks), so a run with process churn can be flagged.

Memory: /proc/PID/smaps_rollup (Rss, Pss, Shared_*) of each process.
"""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def children_of(ppid):
    """PIDs whose parent is `ppid`."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may contain spaces: fields start after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if int(fields[1]) == ppid:
            kids.append(int(name))
    return sorted(kids)


def task_cpu_ns(pid):
    """On-CPU nanoseconds of every thread of `pid` (0 if it is gone)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid), "rb") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def reaped_children_ticks(pid):
    """cutime+cstime of `pid`: CPU ticks of children it has waited for."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rfind(b")") + 2:].split()
    # after ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return int(fields[13]) + int(fields[14])


class CpuSample:
    def __init__(self, parent_pid):
        self.parent = parent_pid
        self.pids = [parent_pid] + children_of(parent_pid)
        self.ns = sum(task_cpu_ns(p) for p in self.pids)
        self.reaped_ticks = reaped_children_ticks(parent_pid)


def cpu_between(before, after):
    """(seconds of httpd CPU between two samples, churn note or None)."""
    seconds = (after.ns - before.ns) / 1e9
    gone = sorted(set(before.pids) - set(after.pids))
    reaped = (after.reaped_ticks - before.reaped_ticks) / CLK_TCK
    note = None
    if gone or reaped:
        # a child that exited took part of its time with it; add what the
        # parent's cutime/cstime saw (tick precision)
        seconds += reaped
        note = "%d httpd process(es) exited during the run" % len(gone)
    return seconds, note


def smaps_rollup(pid):
    """{'Rss': kB, 'Pss': kB, ...} of one process."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return out


def memory(parent_pid):
    """Memory of an httpd: the parent's Rss, the largest child Rss, and the
    Pss summed over all processes (shared pages counted once), in kB."""
    pids = [parent_pid] + children_of(parent_pid)
    rows = {p: smaps_rollup(p) for p in pids}
    return {
        "processes": len(pids),
        "parent_rss_kb": rows[parent_pid].get("Rss", 0),
        "max_child_rss_kb": max([rows[p].get("Rss", 0) for p in pids[1:]] or [0]),
        "pss_total_kb": sum(r.get("Pss", 0) for r in rows.values()),
        "rss_total_kb": sum(r.get("Rss", 0) for r in rows.values()),
    }
