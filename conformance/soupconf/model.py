"""The oracle for KV state: a dict, last write wins per key.

TofuSoup's rapid_operations test compared each (key, value) tuple with what
was read back, so a duplicated key made it report a race that was its own
bug (rpc-spec.md §10.1, §11.2 item 15). Every property here compares with
this model instead: after a sequence of acknowledged Puts, each key holds the
value of its last Put, and a key never put is absent (NOT_FOUND).
"""

from typing import Dict, Iterable, Optional, Tuple, Union

Key = Union[str, bytes]

ABSENT = None  # the model's reading of a key that was never put


def key_bytes(key: Key) -> bytes:
    return key.encode("utf-8", "surrogatepass") if isinstance(key, str) else bytes(key)


class KVModel:
    """A dict from key bytes to value bytes. Keys are compared as the UTF-8
    bytes that go on the wire, so two keys are the same only if their bytes
    are (no normalisation, no truncation, NUL is an ordinary character)."""

    def __init__(self) -> None:
        self._d: Dict[bytes, bytes] = {}

    def put(self, key: Key, value: bytes) -> None:
        self._d[key_bytes(key)] = bytes(value)

    def get(self, key: Key) -> Optional[bytes]:
        return self._d.get(key_bytes(key), ABSENT)

    def keys(self) -> Iterable[bytes]:
        return list(self._d.keys())

    def items(self) -> Iterable[Tuple[bytes, bytes]]:
        return list(self._d.items())

    def __len__(self) -> int:
        return len(self._d)

    @classmethod
    def after(cls, puts: Iterable[Tuple[Key, bytes]]) -> "KVModel":
        m = cls()
        for k, v in puts:
            m.put(k, v)
        return m
