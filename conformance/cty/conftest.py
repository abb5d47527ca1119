"""Fixtures for the cty wire properties: the soup-c binary and the go-cty
oracle (peers/go-cty), found through $SOUPC_BIN and $SOUPC_GO_CTY."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, settings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The root conftest registers these; keep the suite usable on its own.
for _name, _n in (("quick", 8), ("default", 60), ("thorough", 1000)):
    try:
        settings.get_profile(_name)
    except Exception:
        settings.register_profile(_name, max_examples=_n, deadline=None,
                                  suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="session")
def soupc_bin():
    path = os.environ.get("SOUPC_BIN", os.path.join(REPO, "build", "dev", "soup-c"))
    if not os.access(path, os.X_OK):
        pytest.fail("soup-c binary not found at %s (set SOUPC_BIN)" % path, pytrace=False)
    return path


class Oracle:
    """One long-lived `soupc-cty-oracle batch` process (JSON lines)."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path, "batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, op, ty, value):
        req = json.dumps({"op": op, "type": ty, "value": value})
        self.proc.stdin.write(req + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("go-cty oracle exited")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def go_cty():
    path = os.environ.get("SOUPC_GO_CTY")
    tmp = None
    if not path:
        tmp = tempfile.mkdtemp(prefix="soupc-go-cty-")
        try:
            subprocess.run([os.path.join(REPO, "peers", "go-cty", "build.sh"), tmp],
                           check=True, capture_output=True, text=True, timeout=600)
        except subprocess.CalledProcessError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail("cannot build the go-cty oracle: " + e.stderr, pytrace=False)
        path = os.path.join(tmp, "soupc-cty-oracle")
    o = Oracle(path)
    yield o
    o.close()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
