"""Shared helpers for soup-c's Python tests: start the server, talk to it
with grpcio (Debian's python3-grpcio, a client nobody here wrote), and
generate kv_pb2 from proto/kv.proto with Debian's protoc at test time."""

import atexit
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def soupc_bin():
    """The soup-c binary under test: $SOUPC_BIN, else build/dev/soup-c."""
    path = os.environ.get("SOUPC_BIN") or os.path.join(REPO, "build", "dev", "soup-c")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"soup-c binary not found at {path}; set SOUPC_BIN")
    return path


_kv_pb2 = None


def kv_pb2():
    """proto/kv.proto compiled with protoc --python_out into a temp dir."""
    global _kv_pb2
    if _kv_pb2 is None:
        out = tempfile.mkdtemp(prefix="soupc-pb2-")
        atexit.register(shutil.rmtree, out, True)
        subprocess.run(
            ["protoc", f"--proto_path={REPO}/proto", f"--python_out={out}", "kv.proto"],
            check=True,
        )
        sys.path.insert(0, out)
        _kv_pb2 = importlib.import_module("kv_pb2")
    return _kv_pb2


class KVClient:
    """A grpcio proto.KV client on a given channel."""

    def __init__(self, channel):
        pb = kv_pb2()
        self.pb = pb
        self.channel = channel
        self._get = channel.unary_unary(
            "/proto.KV/Get",
            request_serializer=pb.GetRequest.SerializeToString,
            response_deserializer=pb.GetResponse.FromString,
        )
        self._put = channel.unary_unary(
            "/proto.KV/Put",
            request_serializer=pb.PutRequest.SerializeToString,
            response_deserializer=pb.Empty.FromString,
        )
        # Raw bytes in and out: for requests no well-behaved client can build
        # (an invalid UTF-8 key) and for unknown methods.
        self.raw = lambda method: channel.unary_unary(
            method, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )

    def put(self, key, value, timeout=30):
        self._put(self.pb.PutRequest(key=key, value=value), timeout=timeout)

    def get(self, key, timeout=30):
        return self._get(self.pb.GetRequest(key=key), timeout=timeout).value


MAX_MSG = 256 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MSG),
    ("grpc.max_receive_message_length", MAX_MSG),
]


class Server:
    """soup-c rpc kv server --standalone on an ephemeral port."""

    def __init__(self, storage_dir, *extra, listen="127.0.0.1:0", env=None):
        self.storage_dir = storage_dir
        self.cert_path = None
        args = [soupc_bin(), "rpc", "kv", "server", "--standalone",
                "--listen", listen, "--storage-dir", storage_dir, *extra]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env if env is not None else os.environ.copy(), text=True)
        deadline = time.time() + 30
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError(f"server exited ({self.proc.wait()}): {err}")
            m = re.match(r"TLS certificate written to (\S+)", line)
            if m:
                self.cert_path = m.group(1)
            m = re.match(r"Server listening on (\S+)", line)
            if m:
                self.address = m.group(1)
                break
            if time.time() > deadline:
                raise RuntimeError("server did not start in 30 s")

    @property
    def pid(self):
        return self.proc.pid

    def channel(self, root_cert=None, client_cert=None, client_key=None,
                server_name=None):
        target = self.address
        if target.startswith("unix:"):
            target = "unix:" + target[5:]
        if root_cert is None:
            return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        creds = grpc.ssl_channel_credentials(
            root_certificates=root_cert, private_key=client_key,
            certificate_chain=client_cert)
        opts = list(CHANNEL_OPTIONS)
        if server_name:
            opts.append(("grpc.ssl_target_name_override", server_name))
        return grpc.secure_channel(target, creds, options=opts)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def run_cli(*args, input=None, env=None, timeout=60):
    """Runs soup-c with args; returns the CompletedProcess (bytes)."""
    return subprocess.run([soupc_bin(), *args], input=input, capture_output=True,
                          env=env, timeout=timeout)
