"""Sequences of operations as a Hypothesis state machine, checked against
the model after every step, with server restarts (SIGTERM and kill -9)
between steps: data must persist across them."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from soupconf import servers, strategies as sst
from soupconf.model import KVModel


class KVMachine(RuleBasedStateMachine):
    IMPL = None
    TMP = None

    keys = Bundle("keys")

    def __init__(self):
        super().__init__()
        self.model = KVModel()
        self.server = servers.Server(self.IMPL, servers.tmpdir(), tls=servers.PLAINTEXT)
        self.server.start()
        self.client = self.server.client()

    @initialize(target=keys, k=sst.keys())
    def first_key(self, k):
        return k

    @rule(target=keys, k=sst.keys())
    def new_key(self, k):
        return k

    @rule(target=keys, k=keys, suffix=st.sampled_from(["\x00", "\x00x", "/", "/..", " ", "\u0301"]))
    def sibling_key(self, k, suffix):
        # a key that a truncating or normalising store would merge with k
        return k + suffix if len((k + suffix).encode()) <= 65536 else k

    @rule(k=keys, v=sst.values(1 << 17))
    def put(self, k, v):
        self.client.put(k, v)
        self.model.put(k, v)

    @rule(k=keys)
    def get(self, k):
        assert self.client.get(k) == self.model.get(k)

    @rule(k=sst.keys())
    def get_any(self, k):
        assert self.client.get(k) == self.model.get(k)

    @rule(hard=st.booleans())
    def restart(self, hard):
        self.client.close()
        self.server.restart(hard=hard)
        self.client = self.server.client()

    @rule()
    def check_everything(self):
        for k, v in self.model.items():
            assert self.client.get(k) == v, "key %r" % (k,)

    def teardown(self):
        try:
            self.client.close()
        finally:
            self.server.kill()
            if self.server.impl.durable:
                servers.rmtree(self.server.workdir)


def test_kv_state_machine_matches_model_across_restarts(impl):
    if not impl.durable:
        pytest.skip("%s keeps data in memory only; restarts lose it by design" % impl.name)
    KVMachine.IMPL = impl
    run_state_machine_as_test(KVMachine)
