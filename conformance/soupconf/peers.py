"""The Go peers the suite needs (peers/go: kvref, kvclient, goplugin-host,
goplugin-kv), built when missing or older than their sources.

The suite never reports a matrix with silently skipped cells: without the
peers it fails at the start, saying how to get them, unless the run asks
for that explicitly (--allow-missing-peers / SOUPC_ALLOW_MISSING_PEERS=1),
and then the report names the skipped cells and the reason once.
"""

import fcntl
import glob
import os
import shutil
import subprocess
from typing import List, Optional

from .servers import REPO, go_peers_dir

PEERS = ["kvref", "kvclient", "goplugin-host", "goplugin-kv"]
BUILD_SH = os.path.join(REPO, "peers", "go", "build.sh")
HOW = ("install Go and Debian's Go packages (scripts/install-deps.sh: golang-go, golang-google-grpc-dev, "
       "golang-github-hashicorp-go-plugin-dev, golang-goprotobuf-dev), then run peers/go/build.sh %s; "
       "or pass --allow-missing-peers to run with those matrix cells skipped")


def missing(d: Optional[str] = None) -> List[str]:
    d = d or go_peers_dir()
    return [p for p in PEERS if not os.access(os.path.join(d, p), os.X_OK)]


def _sources() -> List[str]:
    return glob.glob(os.path.join(REPO, "peers", "go", "src", "**", "*.go"), recursive=True) + \
        [os.path.join(REPO, "proto", "kv.proto"), BUILD_SH]


def stale(d: Optional[str] = None) -> bool:
    d = d or go_peers_dir()
    if missing(d):
        return True
    oldest = min(os.path.getmtime(os.path.join(d, p)) for p in PEERS)
    return any(os.path.getmtime(s) > oldest for s in _sources() if os.path.exists(s))


def ensure(d: Optional[str] = None, log=None) -> Optional[str]:
    """Builds the peers into @p d if they are missing or stale. Returns None
    when they are there, else why not and how to fix it. Safe to call from
    several processes at once (pytest-xdist workers): one builds, the
    others wait for it."""
    d = d or go_peers_dir()
    if not stale(d):
        return None
    if shutil.which("go") is None:
        return "Go peers missing in %s (%s) and no `go` on PATH: %s" % (d, ", ".join(missing(d)) or "stale", HOW % d)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stale(d):  # another worker built them meanwhile
            return None
        r = subprocess.run([BUILD_SH, d], capture_output=True, text=True, timeout=1800)
        if log is not None:
            log(r.stdout + r.stderr)
        if r.returncode != 0:
            return "building the Go peers failed (peers/go/build.sh %s, exit %d):\n%s\n%s" % (
                d, r.returncode, (r.stdout + r.stderr)[-3000:], HOW % d)
    return None if not missing(d) else "peers/go/build.sh %s left %s missing: %s" % (d, missing(d), HOW % d)
