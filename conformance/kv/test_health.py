"""Health family: grpc.health.v1.Health/Check on a standalone server, by
grpcio with the hand codec and by `soup-c rpc validate connection`.

The model (grpc-go's health server, go-plugin's "plugin" name, soup-c's
"proto.KV" for its store): "", "plugin" and "proto.KV" answer SERVING (1)
while the server serves; any other name is NOT_FOUND; a request that is not
a HealthCheckRequest is INVALID_ARGUMENT; none of it changes the store.
"""

import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from soupconf import codec, servers
from soupconf.client import KVError
from soupconf.profiles import scaled

CHECK = "/grpc.health.v1.Health/Check"
SERVING = 1
KNOWN = ["", "plugin", "proto.KV"]


def _check(client, service):
    req = codec._field_bytes(1, service.encode()) if service else b""
    resp = client.raw(CHECK, req, timeout=10)
    f = codec.decode_fields(resp)
    return f.get(1, [0])[-1]


@pytest.fixture(autouse=True)
def _soupc(impl):
    if not impl.name.startswith("soup-c"):
        pytest.skip("%s serves no grpc.health.v1.Health" % impl.name)


@pytest.mark.parametrize("service", KNOWN)
def test_known_services_are_serving(shared_client, service):
    assert _check(shared_client, service) == SERVING


@settings(max_examples=scaled(0.3, 5))
@given(service=st.text(min_size=1, max_size=40).filter(lambda s: s not in KNOWN))
def test_any_other_service_is_not_found_and_the_store_is_untouched(shared_client, service):
    shared_client.put("health-k", b"v")
    with pytest.raises(KVError) as ei:
        _check(shared_client, service)
    assert ei.value.code == "NOT_FOUND", ei.value
    assert shared_client.get("health-k") == b"v"
    assert _check(shared_client, "") == SERVING


@pytest.mark.parametrize("garbage", [b"\xff", b"\x0a\x05ab", b"\x08"])
def test_a_request_that_is_no_health_check_request_is_invalid_argument(shared_client, garbage):
    with pytest.raises(KVError) as ei:
        shared_client.raw(CHECK, garbage, timeout=10)
    assert ei.value.code == "INVALID_ARGUMENT", ei.value
    assert _check(shared_client, "plugin") == SERVING


def test_validate_connection_reports_success_and_a_dead_server(server_factory):
    srv = server_factory()
    r = subprocess.run([servers.SoupC().binary, "rpc", "validate", "connection", "--address", srv.address,
                        "--timeout", "10"], capture_output=True, timeout=60)
    assert r.returncode == 0 and b"validated successfully" in r.stdout, (r.stdout, r.stderr)
    addr = srv.address
    srv.kill()
    r = subprocess.run([servers.SoupC().binary, "rpc", "validate", "connection", "--address", addr,
                        "--timeout", "2"], capture_output=True, timeout=60)
    assert r.returncode == 1 and r.stderr.strip(), (r.stdout, r.stderr)
