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


def group_members(pgid: int) -> list:
    """PIDs of the live processes in process group @pgid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # fields: state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(name))
    return out


def cmdline(pid: int) -> str:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return "?"


class LeftBehind(AssertionError):
    """A host exited and left processes of its own (its plugin) running."""


def run_tree(argv, timeout, input=None, env=None):
    """subprocess.run for a program that starts children (a go-plugin host
    and its plugin), in its own process group, so that on a timeout the
    whole tree is killed, not just the host. A Go host (no PDEATHSIG) killed
    alone leaves its plugin running: that is how `soup-c rpc kv server`
    plugins outlived a run in which the host hung after refusing what the
    plugin offered (go-plugin 1.0.1 dials with WithBlock and no deadline).

    Returns a CompletedProcess (stdout, stderr as bytes). Raises
    subprocess.TimeoutExpired after killing the tree, and LeftBehind (after
    killing them) when the host exited on its own but a process it started
    is still running 2 s later: a host must reap its plugin
    (go-plugin-protocol.md §6.2.9)."""
    import subprocess
    import tempfile
    import time
    # Files, not pipes: a process left behind holding the host's stdout
    # must not make us wait for an EOF that never comes.
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
            tempfile.TemporaryFile() as ferr:
        if input is not None:
            fin.write(input)
            fin.seek(0)
        p = subprocess.Popen(argv, start_new_session=True, env=env,
                             stdin=fin if input is not None else subprocess.DEVNULL,
                             stdout=fout, stderr=ferr)
        try:
            p.wait(timeout=timeout)
        except BaseException:  # the timeout, or a KeyboardInterrupt
            _kill_group(p.pid)
            p.wait()
            raise
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    deadline = time.monotonic() + 2.0
    while True:
        left = group_members(p.pid)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if left:
        names = ["%d %s" % (pid, cmdline(pid)) for pid in left]
        _kill_group(p.pid)
        prog = argv[0] if isinstance(argv[0], str) else argv[0].decode(errors="replace")
        raise LeftBehind("%s exited (status %s) and left running: %s"
                         % (prog, p.returncode, "; ".join(names)))
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def _kill_group(pgid: int) -> None:
    import signal
    import time
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5.0
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


MARK_VAR = "SOUPCONF_RUN"


def marked(value: str, exclude=()) -> list:
    """PIDs of live processes started with MARK_VAR=@value in their
    environment (every process the suite starts inherits it)."""
    needle = ("%s=%s" % (MARK_VAR, value)).encode()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % name) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if needle in env and state != "Z":
            out.append(int(name))
    return out
