"""proto.KV messages (rpc-spec.md §1.1) encoded by hand.

Hand encoding lets tests send what a generated stub refuses to (a key that is
not valid UTF-8, unknown fields) and keeps generated code out of the tree.
selftest/test_codec.py checks this codec against protoc output.
"""

from typing import Dict, List, Tuple, Union


def _varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("negative varint")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    shift = 0
    n = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _field_bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _as_bytes(key: Union[str, bytes]) -> bytes:
    # surrogatepass: a str holding a lone surrogate still encodes, so tests
    # can send it; such a key is not valid UTF-8 and must be rejected.
    if isinstance(key, str):
        return key.encode("utf-8", "surrogatepass")
    return bytes(key)


def encode_get_request(key: Union[str, bytes]) -> bytes:
    k = _as_bytes(key)
    return _field_bytes(1, k) if k else b""


def encode_put_request(key: Union[str, bytes], value: bytes) -> bytes:
    k = _as_bytes(key)
    out = _field_bytes(1, k) if k else b""
    if value:
        out += _field_bytes(2, bytes(value))
    return out


def decode_fields(buf: bytes) -> Dict[int, List[Union[int, bytes]]]:
    """Decodes any protobuf message into {field: [values]} (last one wins
    for scalars, as protobuf says)."""
    fields: Dict[int, List[Union[int, bytes]]] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _read_varint(buf, pos)
        field, wt = tag >> 3, tag & 7
        if field == 0:
            raise ValueError("field number 0")
        if wt == 0:
            v, pos = _read_varint(buf, pos)
        elif wt == 1:
            v = buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            n, pos = _read_varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("truncated length-delimited field")
            v = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            v = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("bad wire type %d" % wt)
        if pos > len(buf):
            raise ValueError("truncated field")
        fields.setdefault(field, []).append(v)
    return fields


def decode_get_response(buf: bytes) -> bytes:
    f = decode_fields(buf)
    vals = f.get(1, [b""])
    v = vals[-1]
    if not isinstance(v, (bytes, bytearray)):
        raise ValueError("GetResponse.value has the wrong wire type")
    return bytes(v)


def decode_put_request(buf: bytes) -> Tuple[bytes, bytes]:
    f = decode_fields(buf)
    return bytes(f.get(1, [b""])[-1]), bytes(f.get(2, [b""])[-1])


def decode_get_request(buf: bytes) -> bytes:
    f = decode_fields(buf)
    return bytes(f.get(1, [b""])[-1])


def encode_get_response(value: bytes) -> bytes:
    return _field_bytes(1, value) if value else b""


def grpc_frame(msg: bytes, compressed: bool = False) -> bytes:
    """The 5-byte gRPC length prefix plus the message."""
    return bytes([1 if compressed else 0]) + len(msg).to_bytes(4, "big") + msg


def put_request_of_size(size: int, key: bytes, fill: int = 0x61) -> Tuple[bytes, bytes]:
    """(key', value) whose PutRequest encodes to exactly @p size bytes: the
    value is @p fill bytes, and @p key gets 'k's appended when a varint
    length step makes the exact size unreachable with @p key as it is."""
    for extra in range(0, 8):
        k = bytes(key) + b"k" * extra
        head = len(_field_bytes(1, k))
        if head == size:
            return k, b""
        # value field: 1 tag byte + varint(n) + n
        for vlen_len in range(1, 6):
            n = size - head - 1 - vlen_len
            if n > 0 and len(_varint(n)) == vlen_len:
                v = bytes([fill]) * n
                assert len(encode_put_request(k, v)) == size
                return k, v
    raise ValueError("no PutRequest of %d bytes with key %r" % (size, key))


def get_response_size(value: bytes) -> int:
    return len(encode_get_response(value))


def value_for_get_response_of_size(size: int, fill: int = 0x62) -> bytes:
    """A value whose GetResponse encodes to exactly @p size bytes. Not every
    size is reachable (1 + varint(n) + n skips one size at each varint step):
    ValueError then; see values_around_get_response_limit."""
    if size == 0:
        return b""
    for vlen_len in range(1, 6):
        n = size - 1 - vlen_len
        if n > 0 and len(_varint(n)) == vlen_len:
            return bytes([fill]) * n
    raise ValueError("no GetResponse of %d bytes" % size)


def values_around_get_response_limit(limit: int) -> Tuple[bytes, bytes]:
    """(largest value whose GetResponse is <= limit, smallest one > limit)."""
    def fits(size):
        try:
            return value_for_get_response_of_size(size)
        except ValueError:
            return None
    below = next(v for s in range(limit, -1, -1) for v in [fits(s)] if v is not None)
    above = next(v for s in range(limit + 1, limit + 8) for v in [fits(s)] if v is not None)
    return below, above
