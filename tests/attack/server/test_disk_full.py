"""Disk full (issue 8): the store on a small tmpfs, mounted in a private
mount namespace of the server's own (unshare -m), so nothing is left
mounted whatever happens. A Put on the full disk gets RESOURCE_EXHAUSTED
saying ENOSPC; once space is freed Puts succeed again without a restart,
and every acknowledged Put is still there."""

import os
import shutil
import subprocess

import grpc
import pytest

import attack_util as au

VALUE = 256 * 1024


def _can_mount():
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        "mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt"],
                       capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs root and unshare -m (tmpfs mount)")
def test_enospc_is_resource_exhausted_and_puts_resume_after_freeing(tmp_path):
    mnt = str(tmp_path / "disk")
    os.mkdir(mnt)
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs -o size=24m tmpfs "$0" && exec "$@"', mnt]
    srv = au.Server(mnt + "/store", wrap=wrap)

    def inside(script):
        subprocess.run(["nsenter", "-t", str(srv.pid), "-m", "sh", "-c", script],
                       capture_output=True, timeout=30)

    try:
        inside('head -c 18M /dev/zero > "%s/filler"' % mnt)
        ch = grpc.insecure_channel(srv.address, options=au.lib.CHANNEL_OPTIONS)
        kv = au.lib.KVClient(ch)
        acked = {}
        full = None
        for i in range(200):
            key, value = "k%03d" % i, os.urandom(VALUE)
            try:
                kv.put(key, value, timeout=30)
                acked[key] = value
            except grpc.RpcError as e:
                full = e
                break
        assert full is not None, "the 24 MiB disk never filled"
        assert full.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, full
        assert "ENOSPC" in full.details(), full.details()
        assert acked, "nothing fit before the disk was full"
        # Still full: still refused, the server still serving Gets.
        with pytest.raises(grpc.RpcError) as again:
            kv.put("while-full", os.urandom(VALUE), timeout=30)
        assert again.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        inside('rm -f "%s/filler"' % mnt)
        for i in range(5):
            key, value = "after%d" % i, os.urandom(VALUE)
            kv.put(key, value, timeout=30)
            acked[key] = value
        for key, value in acked.items():
            assert kv.get(key, timeout=30) == value, key
        ch.close()
    finally:
        assert srv.stop() == 0
