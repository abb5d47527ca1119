"""The suite's process-tree runner (soupconf.procinfo.run_tree): a host that
times out is killed with everything it started, and a host that exits but
leaves a process of its own running is reported."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from soupconf import procinfo, servers


def _alive(pid):
    return procinfo.alive(pid)


def test_timeout_kills_the_whole_tree(tmp_path):
    pidfile = tmp_path / "child.pid"
    with pytest.raises(subprocess.TimeoutExpired):
        procinfo.run_tree(["sh", "-c", 'sleep 60 & echo $! > "$0"; wait', str(pidfile)], timeout=1)
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(child), "the host's child survived the timeout"


def test_a_child_left_running_is_reported_and_killed(tmp_path):
    pidfile = tmp_path / "child.pid"
    with pytest.raises(procinfo.LeftBehind) as e:
        # The orphan holds the host's stdout: run_tree must not wait for EOF.
        procinfo.run_tree(["sh", "-c", 'sleep 60 & echo $! > "$0"', str(pidfile)], timeout=20)
    assert "sleep 60" in str(e.value)
    assert not _alive(int(pidfile.read_text()))


def test_output_and_input_pass_through():
    r = procinfo.run_tree(["sh", "-c", "cat; echo err >&2; exit 3"], timeout=10, input=b"a\0b")
    assert (r.returncode, r.stdout, r.stderr) == (3, b"a\0b", b"err\n")


def test_go_host_hanging_on_a_silent_plugin_takes_its_plugin_down(tmp_path):
    """go-plugin 1.0.1 dials the plugin with WithBlock and no deadline: a
    plugin that accepts and never speaks HTTP/2 hangs the host. Killing the
    host alone (subprocess.run's timeout) left the plugin running."""
    host = os.path.join(servers.go_peers_dir(), "goplugin-host")
    if not os.access(host, os.X_OK):
        pytest.fail("Go peers not built: run peers/go/build.sh %s" % servers.go_peers_dir(),
                    pytrace=False)
    plugin = tmp_path / "silent-plugin"
    plugin.write_text(textwrap.dedent("""\
        #!%s
        import os, socket, sys
        path = os.path.join(%r, "s")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.listen(8)
        with open(%r, "w") as f:
            f.write(str(os.getpid()))
        print("1|1|unix|%%s|grpc|" %% path, flush=True)
        held = []
        while True:
            held.append(s.accept()[0])
        """ % (sys.executable, str(tmp_path), str(tmp_path / "plugin.pid"))))
    plugin.chmod(0o755)
    with pytest.raises(subprocess.TimeoutExpired):
        procinfo.run_tree([host, "--no-automtls", "put", "k", "v", "--", str(plugin)], timeout=3)
    pid = int((tmp_path / "plugin.pid").read_text())
    assert not _alive(pid), "the plugin outlived its host"
