"""Plain data across the boundary: a JSON tree plus ``.npy`` blobs, never pickle.

Both directions use the same format. A frame body is::

    u32 json_length | JSON header | blob 0 | blob 1 | ...

and the header lists the blob lengths under ``"b"``. Inside the header, a value is a tree in
which lists, tuples, dicts and non-JSON scalars are tagged objects with exactly one key::

    {"L": [...]} list      {"T": [...]} tuple      {"D": {...}} dict with str keys
    {"C": [re, im]} complex  {"A": i} ndarray = blob i  {"S": i} numpy scalar = 0-d blob i
    {"H": [id, type_name]} a Handle

so a bare JSON object can never be mistaken for data. ``None``, ``bool``, ``int``, ``float``
(NaN and infinities included) and ``str`` are plain JSON.

Decoding is written for hostile input: the grader calls :func:`decode` on bytes produced by
student code, so every blob's ``.npy`` header is parsed here with a strict pattern (numeric
kinds ``biufc`` only, no object, structured or string dtypes) and its size checked against
the bytes actually present *before* numpy allocates anything.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from autograder.sandbox.model import Handle

NUMERIC_KINDS = frozenset("biufc")
MAX_DEPTH = 64  # deeper trees are refused both ways; student data is never that nested
MAX_TYPE_NAME = 200
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # line breaks and other control characters
# JSON a worker may send: parsing it costs the grader ~15x its size in Python objects, so
# bulk data must come as arrays (blobs), which cost their size once.
MAX_JSON = 8 * 1024 * 1024

PREFIX = struct.Struct("!I")  # announces a frame's body length
# Exactly what numpy's format.write_array emits for a numeric dtype, nothing else.
_NPY_HEADER = re.compile(
    r"\{'descr': '(?P<descr>[<>|=]?[biufc]\d{1,2})', "
    r"'fortran_order': (?P<fortran>True|False), "
    r"'shape': \((?P<shape>(?:\d{1,19}, )*\d{0,19},?)\), \} *\n"
)


class ProtocolError(Exception):
    """Bytes that do not follow the protocol (a forged or corrupt frame)."""


def _plain_array(value: Any) -> np.ndarray | None:
    """``value`` as a base-class ndarray if it is a numeric array, else None."""
    if not isinstance(value, np.ndarray):
        return None
    array = np.asarray(value)  # subclasses (np.matrix, masked arrays) become plain arrays
    if type(array) is not np.ndarray or array.dtype.kind not in NUMERIC_KINDS:
        return None
    if array.dtype.fields is not None or array.dtype.subdtype is not None:
        return None
    return array


# Both ends see the same few shapes over and over: the prefix written for a (dtype, shape)
# and what a validated header says are kept (a bounded cache, emptied when full, since a
# hostile worker could send endless distinct headers).
_CACHE_LIMIT = 512
_prefixes: dict[tuple[str, tuple[int, ...]], bytes] = {}
_headers: dict[bytes, tuple[np.dtype[Any], tuple[int, ...], int, Literal["C", "F"]]] = {}


def _npy_bytes(array: np.ndarray) -> bytes:
    """``.npy`` version 1.0 bytes of a numeric array (what ``np.save`` writes, only faster)."""
    if not array.flags.c_contiguous:
        array = array.copy(order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
    key = (array.dtype.str, array.shape)
    prefix = _prefixes.get(key)
    if prefix is None:
        dims = array.shape
        shape = f"{dims[0]}," if len(dims) == 1 else ", ".join(str(n) for n in dims)
        header = f"{{'descr': '{array.dtype.str}', 'fortran_order': False, 'shape': ({shape}), }}"
        # Pad so that magic + length + header + newline is a multiple of 64, as numpy does.
        header += " " * (-(10 + len(header) + 1) % 64) + "\n"
        prefix = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
        if len(_prefixes) >= _CACHE_LIMIT:
            _prefixes.clear()
        _prefixes[key] = prefix
    return prefix + array.tobytes()


def encode(value: Any, on_other: Callable[[Any], Handle]) -> tuple[Any, list[bytes]]:
    """Turn ``value`` into a JSON-able tree and a list of ``.npy`` blobs.

    ``on_other`` is called for anything that is not plain data: the worker stores the value
    and returns a Handle for it, the grader raises (it only ever sends plain data).
    A container inside itself is passed to ``on_other`` where it recurs. Raises ValueError
    for trees nested deeper than MAX_DEPTH.
    """
    blobs: list[bytes] = []
    inside: set[int] = set()  # the containers being walked, from the top down to here

    def walk(item: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"data nested more than {MAX_DEPTH} levels deep")
        kind = type(item)
        if item is None or kind in (bool, int, float, str):
            return item
        if kind is complex:
            return {"C": [item.real, item.imag]}
        if kind is Handle:
            return {"H": [item.id, item.type_name]}
        if isinstance(item, np.generic) and item.dtype.kind in NUMERIC_KINDS:
            blobs.append(_npy_bytes(np.asarray(item)))
            return {"S": len(blobs) - 1}
        array = _plain_array(item)
        if array is not None:
            blobs.append(_npy_bytes(array))
            return {"A": len(blobs) - 1}
        if kind is list or kind is tuple or (kind is dict and all(type(k) is str for k in item)):
            if id(item) in inside:
                # It holds itself (a cache with a link back to itself): as data it would be
                # endless, so the inner occurrence is what other objects are, a handle.
                handle = on_other(item)
                return {"H": [handle.id, handle.type_name]}
            inside.add(id(item))
            try:
                if kind is list:
                    return {"L": [walk(x, depth + 1) for x in item]}
                if kind is tuple:
                    return {"T": [walk(x, depth + 1) for x in item]}
                return {"D": {k: walk(v, depth + 1) for k, v in item.items()}}
            finally:
                inside.discard(id(item))
        handle = on_other(item)
        return {"H": [handle.id, handle.type_name]}

    return walk(value, 0), blobs


def parse_npy(blob: bytes | memoryview) -> np.ndarray:
    """Load one ``.npy`` blob after checking, without allocating, that it is a numeric array
    whose declared size matches the bytes present. Raises ProtocolError otherwise."""
    view = memoryview(blob)
    if len(view) < 10 or bytes(view[:6]) != b"\x93NUMPY":
        raise ProtocolError("array payload is not .npy data")
    major = view[6]
    if major == 1:
        (header_len,) = struct.unpack("<H", view[8:10])
        start = 10
    elif major in (2, 3):
        if len(view) < 12:
            raise ProtocolError("truncated .npy header")
        (header_len,) = struct.unpack("<I", view[8:12])
        start = 12
    else:
        raise ProtocolError(f"unsupported .npy version {major}")
    if header_len > 4096 or start + header_len > len(view):
        raise ProtocolError("bad .npy header length")
    raw = bytes(view[start : start + header_len])
    known = _headers.get(raw)
    if known is None:
        known = _parse_header(raw)
        if len(_headers) >= _CACHE_LIMIT:
            _headers.clear()
        _headers[raw] = known
    dtype, shape, count, order = known
    data_len = len(view) - start - header_len
    if count * dtype.itemsize != data_len:
        raise ProtocolError(
            f"array {shape} of {dtype} needs {count * dtype.itemsize} bytes, frame has {data_len}"
        )
    # The header is fully validated above, so the data can be viewed directly: np.load would
    # parse the header a second time with ast.literal_eval, which dominated a call's cost.
    offset = start + header_len
    flat = (
        np.frombuffer(view, dtype=dtype, count=count, offset=offset)
        if count
        else (np.empty(0, dtype=dtype))
    )
    return flat.reshape(shape, order=order).copy()


def _parse_header(raw: bytes) -> tuple[np.dtype[Any], tuple[int, ...], int, Literal["C", "F"]]:
    """What a ``.npy`` header declares: dtype, shape, element count and order; ProtocolError
    unless it is exactly a numeric header as numpy writes it."""
    try:
        header = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("non-ASCII .npy header") from None
    match = _NPY_HEADER.fullmatch(header)
    if match is None:
        raise ProtocolError(f"refused .npy header {header[:80]!r} (only numeric dtypes cross)")
    try:
        dtype = np.dtype(match["descr"])
    except TypeError:  # a type code the pattern admits but numpy does not know ('<f0', '<i16')
        raise ProtocolError(f"refused unknown dtype {match['descr']!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None:
        raise ProtocolError(f"refused dtype {dtype}")
    shape = tuple(int(n) for n in match["shape"].replace(",", " ").split())
    count = 1
    for n in shape:
        count *= n  # Python ints: a forged (10**12,) shape cannot overflow into a small size
    return dtype, shape, count, "F" if match["fortran"] == "True" else "C"


def decode(tree: Any, blobs: list[memoryview], on_handle: Callable[[int, str], Any]) -> Any:
    """Inverse of :func:`encode`; raises ProtocolError on anything malformed.

    ``on_handle(id, type_name)`` turns a handle tag into a value (the grader builds a
    Handle, the worker looks the object up).
    """

    used: set[int] = set()

    def array(index: Any) -> np.ndarray:
        if type(index) is not int or not 0 <= index < len(blobs):
            raise ProtocolError("array tag points to no payload")
        # encode writes a payload per array; one read twice would let a small frame decode
        # to any size (a forged reply naming one 1 MiB payload 4,000 times: 4 GiB).
        if index in used:
            raise ProtocolError("a payload is referred to more than once")
        used.add(index)
        return parse_npy(blobs[index])

    def walk(node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError(f"data nested more than {MAX_DEPTH} levels deep")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is not dict or len(node) != 1:
            raise ProtocolError(f"unexpected {type(node).__name__} in data")
        ((tag, body),) = node.items()
        if tag in ("L", "T") and type(body) is list:
            items = [walk(x, depth + 1) for x in body]
            return items if tag == "L" else tuple(items)
        if tag == "D" and type(body) is dict:
            return {k: walk(v, depth + 1) for k, v in body.items()}
        if tag == "C" and type(body) is list and len(body) == 2:
            real, imag = body
            if type(real) not in (int, float) or type(imag) not in (int, float):
                raise ProtocolError("bad complex number")
            return complex(real, imag)
        if tag == "A":
            return array(body)
        if tag == "S":
            scalar = array(body)
            if scalar.shape != ():
                raise ProtocolError("scalar tag points to an array")
            return scalar[()]
        if tag == "H" and type(body) is list and len(body) == 2:
            ident, type_name = body
            if type(ident) is not int or type(type_name) is not str:
                raise ProtocolError("bad handle")
            # A type's name is the student's text, shown in feedback: on one line.
            return on_handle(ident, CONTROL.sub(" ", type_name[:MAX_TYPE_NAME]))
        raise ProtocolError(f"unknown tag {tag!r}")

    return walk(tree, 0)


def pack(header: dict[str, Any], blobs: Sequence[bytes] = (), max_json: int | None = None) -> bytes:
    """One frame: u32 body length, then the body described in the module docstring.

    ValueError if the JSON part exceeds ``max_json`` bytes (given for replies to the grader).
    """
    head = json.dumps({**header, "b": [len(b) for b in blobs]}, separators=(",", ":")).encode()
    if max_json is not None and len(head) > max_json:
        raise ValueError(
            f"the value is {len(head) >> 20} MiB as JSON, more than {max_json >> 20} MiB; "
            "return numpy arrays for bulk data"
        )
    body_len = 4 + len(head) + sum(len(b) for b in blobs)
    return b"".join([PREFIX.pack(body_len), PREFIX.pack(len(head)), head, *blobs])


def unpack(
    body: bytes | bytearray | memoryview, max_json: int | None = None
) -> tuple[dict[str, Any], list[memoryview]]:
    """Split a frame body into its JSON header and blob views; ProtocolError if malformed
    or if the JSON part is longer than ``max_json`` (the grader passes MAX_JSON)."""
    view = memoryview(body)
    if len(view) < 4:
        raise ProtocolError("frame shorter than its header")
    (head_len,) = PREFIX.unpack(view[:4])
    if 4 + head_len > len(view):
        raise ProtocolError("frame header longer than the frame")
    if max_json is not None and head_len > max_json:
        raise ProtocolError(f"{head_len >> 20} MiB of JSON, more than {max_json >> 20} MiB")
    try:
        header = json.loads(bytes(view[4 : 4 + head_len]))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame header is not JSON ({type(exc).__name__})") from None
    if type(header) is not dict:
        raise ProtocolError("frame header is not an object")
    sizes = header.pop("b", None)
    if type(sizes) is not list or not all(type(n) is int and n >= 0 for n in sizes):
        raise ProtocolError("frame has no valid blob table")
    offset = 4 + head_len
    if offset + sum(sizes) != len(view):
        raise ProtocolError("blob table does not match the frame length")
    blobs = []
    for n in sizes:
        blobs.append(view[offset : offset + n])
        offset += n
    return header, blobs
