"""Hypothesis strategies. Unrestricted on purpose: TofuSoup limited keys to
[a-zA-Z0-9._@-]{1,200} and so never saw its Go server die on NUL, most of
Unicode and keys over ~240 bytes (rpc-spec.md §11.1).

Keys: any Unicode scalar values (no lone surrogates: a proto3 string must be
valid UTF-8), including NUL, C0/C1 controls, emoji, right-to-left text and
combining marks, from 1 byte up to the server's key limit (measured in UTF-8
bytes). Values: any bytes, including empty and large ones.
"""

import os
import random

from hypothesis import strategies as st

DEFAULT_MAX_KEY_BYTES = 65536

# Characters that broke or nearly broke file-per-key stores, weighted in so
# that short runs still meet them.
NASTY_CHARS = [
    "\x00", "\x01", "\x1f", "\x7f", "\x85", "\u00a0", "/", "\\", ".", "..",
    "\n", "\r", "\t", " ", "%", "*", "?", ":", "~", "$",
    "\u200b", "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff", "\ufffd", "\uffff",
    "\u0301", "\u05d0", "\u0627", "\u4e2d", "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0010ffff", "\U000e0001",
]

_any_char = st.characters(blacklist_categories=("Cs",))  # every scalar value


def key_text(max_chars: int = 64):
    """Short-to-medium keys over all of Unicode, biased toward nasty chars."""
    piece = st.one_of(_any_char, st.sampled_from(NASTY_CHARS))
    return st.lists(piece, min_size=1, max_size=max_chars).map("".join)


def _utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


def long_keys(max_key_bytes: int = DEFAULT_MAX_KEY_BYTES):
    """Keys near and at the byte limit, built from a repeated random unit so
    they are cheap to generate and still cover multi-byte characters."""

    @st.composite
    def build(draw):
        unit = draw(key_text(8))
        target = draw(st.one_of(
            st.sampled_from([200, 240, 247, 248, 250, 251, 254, 255, 256, 1024, 4096, max_key_bytes]),
            st.integers(1, max_key_bytes),
        ))
        target = min(target, max_key_bytes)
        ub = unit.encode("utf-8")
        reps = max(1, target // len(ub))
        s = unit * reps
        # pad with ASCII to hit the target exactly, never exceeding it
        s += "k" * (target - _utf8_len(s))
        while _utf8_len(s) > max_key_bytes:
            s = s[:-1]
        return s if s else "k"

    return build()


def keys(max_key_bytes: int = DEFAULT_MAX_KEY_BYTES):
    """Any valid key: 1..max_key_bytes UTF-8 bytes of any scalar values."""
    return st.one_of(
        key_text(16).filter(lambda s: _utf8_len(s) <= max_key_bytes),
        key_text(64).filter(lambda s: _utf8_len(s) <= max_key_bytes),
        long_keys(max_key_bytes),
    )


def prefix_key_pairs(max_key_bytes: int = DEFAULT_MAX_KEY_BYTES):
    """Two distinct keys where one extends the other: (p, p + s). They catch
    stores that truncate keys (at NUL, at a length, at a '/') and so merge
    different keys."""

    @st.composite
    def build(draw):
        # long prefixes weigh double: truncation at a length (NAME_MAX-ish
        # 240..255, or any fixed buffer) only merges keys longer than it
        p = draw(st.one_of(keys(max_key_bytes // 2), long_keys(max_key_bytes // 2),
                           long_keys(max_key_bytes // 2)))
        sep = draw(st.sampled_from(["\x00", "/", "\x00\x00", "", ".", "\n"]))
        s = draw(key_text(8))
        k2 = p + sep + s
        while _utf8_len(k2) > max_key_bytes:
            k2 = k2[:-1]
        if k2 == p:
            k2 = p + "\x00"
            if _utf8_len(k2) > max_key_bytes:
                k2 = p[:-1] + "\x00" if len(p) > 1 else "\x00"
        return (p, k2) if draw(st.booleans()) else (k2, p)

    return build()


@st.composite
def _big_value(draw, min_size: int, max_size: int):
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["random", "zeros", "pattern"]))
    if kind == "zeros":
        return b"\x00" * n
    if kind == "pattern":
        return (bytes(range(256)) * (n // 256 + 1))[:n]
    return random.Random(seed).randbytes(n)


def values(max_size: int = 1 << 20):
    """Any bytes: empty, tiny, NUL-only, random, and large (past 64 KiB)."""
    parts = [
        st.just(b""),
        st.binary(max_size=min(64, max_size)),
        st.sampled_from([b"\x00", b"\x00" * 1000, b"null", b"{}", b'{"a":1}', b"\xff\xfe", bytes(range(256))]),
        _big_value(1, max_size),
    ]
    if max_size > 65536:
        # just past 64 KiB: where a truncating or chunking bug shows first
        parts.append(_big_value(65536 - 8, min(max_size, 65536 + 4096)))
    return st.one_of(*parts)


def big_values(min_size: int = 1 << 20, max_size: int = 10 << 20):
    return _big_value(min_size, max_size)


# TLS settings the suite knows; servers advertise the subset they support.
EC_CURVES = ["secp256r1", "secp384r1", "secp521r1"]
RSA_BITS = [2048, 3072, 4096]


def max_key_bytes_from_env() -> int:
    return int(os.environ.get("SOUPC_MAX_KEY_SIZE", DEFAULT_MAX_KEY_BYTES))
