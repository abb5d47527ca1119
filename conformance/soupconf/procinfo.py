"""Resource readings of a server process from /proc."""

import os


def fd_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_bytes(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st != "Z"
    except FileNotFoundError:
        return False
