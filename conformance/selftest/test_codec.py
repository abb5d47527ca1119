"""The hand codec agrees with protoc's output for proto/kv.proto."""

import os
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from soupconf import codec, strategies as sst

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def kv_pb2(tmp_path_factory):
    d = tmp_path_factory.mktemp("pb")
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(REPO, "proto"),
                        "--python_out", str(d), "kv.proto"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("grpc_tools.protoc unavailable: " + r.stderr)
    sys.path.insert(0, str(d))
    try:
        import kv_pb2 as m
        yield m
    finally:
        sys.path.remove(str(d))


@given(sst.keys(1000), st.binary(max_size=2000))
def test_put_request_matches_protoc(kv_pb2, key, value):
    ref = kv_pb2.PutRequest(key=key, value=value).SerializeToString()
    assert codec.encode_put_request(key, value) == ref
    back = kv_pb2.PutRequest.FromString(codec.encode_put_request(key, value))
    assert back.key == key and back.value == value


@given(sst.keys(1000))
def test_get_request_matches_protoc(kv_pb2, key):
    assert codec.encode_get_request(key) == kv_pb2.GetRequest(key=key).SerializeToString()


@given(st.binary(max_size=5000))
def test_get_response_decodes_protoc_output(kv_pb2, value):
    assert codec.decode_get_response(kv_pb2.GetResponse(value=value).SerializeToString()) == value


def test_invalid_utf8_key_can_be_encoded():
    raw = codec.encode_get_request(b"\xff\xfe")
    assert raw == b"\x0a\x02\xff\xfe"
