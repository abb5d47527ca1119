"""A run with every outcome, for the run report's own tests (selftest/
test_runreport.py, tests/conformance/report). Not collected by default
(the file name does not start with test_); run it explicitly.
SAMPLE_FAIL=1 adds a failing test and a failing property."""

import os

import pytest
from hypothesis import given, settings, strategies as st

FAIL = os.environ.get("SAMPLE_FAIL") == "1"


def test_passes():
    assert 1 + 1 == 2


@settings(max_examples=5)
@given(st.integers())
def test_property_passes(n):
    assert n == n


def test_skipped_for_a_reason():
    pytest.skip("sample skip reason A")


def test_skipped_for_the_same_reason():
    pytest.skip("sample skip reason A")


@pytest.mark.xfail(reason="sample known defect", strict=True)
def test_known_defect():
    assert False


@pytest.mark.skipif(not FAIL, reason="SAMPLE_FAIL not set")
def test_fails():
    assert 1 + 1 == 3, "sample failure"


@pytest.mark.skipif(not FAIL, reason="SAMPLE_FAIL not set")
@settings(max_examples=20)
@given(st.integers(0, 100))
def test_property_fails(n):
    assert n < 50
