"""The wire format and the mount plan, without processes: what crosses, what is refused."""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

import numpy as np
import pytest

from autograder.sandbox import Handle, Limits
from autograder.sandbox.codec import ProtocolError, decode, encode, pack, parse_npy, unpack
from autograder.sandbox.confine import plan_mounts


def _refuse(value: object) -> Handle:
    raise AssertionError(f"{value!r} should have been plain data")


def _roundtrip(value: object) -> Any:
    frame = pack(*_encoded(value))
    header, blobs = unpack(frame[4:])
    return decode(header["v"], blobs, lambda i, t: Handle(i, t))


def _encoded(value: object) -> tuple[dict[str, object], list[bytes]]:
    tree, blobs = encode(value, _refuse)
    return {"v": tree}, blobs


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_plain_data_round_trips_with_types_kept() -> None:
    value: dict[str, Any] = {
        "f64": np.arange(6.0).reshape(2, 3),
        "f32_fortran": np.asfortranarray(np.ones((3, 2), dtype=np.float32)),
        "ints": np.array([1, -2], dtype=np.int16),
        "flags": np.array([True, False]),
        "complex": np.array([1 + 2j]),
        "empty": np.zeros((0, 4)),
        "scalar": np.float32(1.5),
        "py": (1, 2.5, True, None, "s", 3 + 4j, [1, [2]]),
    }
    back = _roundtrip(value)
    assert isinstance(back, dict) and back.keys() == value.keys()
    for key in ("f64", "f32_fortran", "ints", "flags", "complex", "empty"):
        np.testing.assert_array_equal(back[key], value[key])
        assert back[key].dtype == value[key].dtype and back[key].shape == value[key].shape
    assert type(back["scalar"]) is np.float32 and back["scalar"] == np.float32(1.5)
    assert back["py"] == value["py"] and type(back["py"][6]) is list


def test_nan_and_inf_cross_as_data() -> None:
    back = _roundtrip((float("nan"), float("inf"), np.array([np.nan, -np.inf])))
    assert np.isnan(back[0]) and back[1] == float("inf")
    assert np.isnan(back[2][0]) and back[2][1] == -np.inf


def test_subclass_becomes_plain_array_and_other_values_become_handles() -> None:
    others: list[object] = []

    def keep(value: object) -> Handle:
        others.append(value)
        return Handle(len(others), type(value).__name__)

    tree, blobs = encode(
        (np.ma.masked_array([1.0, 2.0]), np.array([object()]), {1: 2}, {"a"}), keep
    )
    back = decode(tree, [memoryview(b) for b in blobs], lambda i, t: Handle(i, t))
    assert type(back[0]) is np.ndarray
    assert back[1:] == (Handle(1, "ndarray"), Handle(2, "dict"), Handle(3, "set"))


def test_a_container_that_holds_itself_crosses_with_a_handle_where_it_recurs() -> None:
    others: list[object] = []

    def keep(value: object) -> Handle:
        others.append(value)
        return Handle(len(others), type(value).__name__)

    cache: dict[str, Any] = {"x": np.ones(2)}
    cache["self"] = cache
    chain: list[Any] = [1.0]
    chain.append([chain])
    shared = [2.0]
    tree, blobs = encode((cache, chain, (shared, shared)), keep)
    back = decode(tree, [memoryview(b) for b in blobs], lambda i, t: Handle(i, t))
    assert back[0]["self"] == Handle(1, "dict") and others[0] is cache
    np.testing.assert_array_equal(back[0]["x"], [1.0, 1.0])
    assert back[1] == [1.0, [Handle(2, "list")]] and others[1] is chain
    assert back[2] == ([2.0], [2.0])  # the same list twice, not inside itself: data both times


def test_too_deep_data_is_refused_both_ways() -> None:
    deep: list[object] = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        encode(deep, _refuse)
    tree: Any = None
    for _ in range(100):
        tree = {"L": [tree]}
    with pytest.raises(ProtocolError, match="nested"):
        decode(tree, [], lambda i, t: Handle(i, t))


def test_object_dtype_payload_is_refused_before_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (exec, ("import os; os.environ['SBX_CODEC_PWNED'] = '1'",))

    blob = _npy(np.array([Evil()], dtype=object), allow_pickle=True)
    monkeypatch.delenv("SBX_CODEC_PWNED", raising=False)
    with pytest.raises(ProtocolError, match="refused"):
        parse_npy(blob)
    assert "SBX_CODEC_PWNED" not in __import__("os").environ
    with pytest.raises(ProtocolError):
        parse_npy(pickle.dumps(Evil()))


@pytest.mark.parametrize(
    "array",
    [
        np.array(["abcd"]),
        np.zeros(2, dtype=[("a", "f8"), ("b", "O")]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype="V8"),
    ],
)
def test_non_numeric_dtypes_are_refused(array: np.ndarray) -> None:
    with pytest.raises(ProtocolError):
        parse_npy(_npy(array, allow_pickle=True))


@pytest.mark.parametrize("shape", ["(1000000000000,)", "(2000000000,)", "(3, 3)"])
def test_forged_shape_is_refused_before_allocation(shape: str) -> None:
    blob = bytearray(_npy(np.zeros(6)))
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(118) + "\n"
    forged = blob[:8] + len(header).to_bytes(2, "little") + header.encode() + bytes(48)
    with pytest.raises(ProtocolError, match="needs"):
        parse_npy(bytes(forged))


def test_malformed_frames_are_protocol_errors() -> None:
    header, blobs = _encoded(np.zeros(3))
    body = pack(header, blobs)[4:]
    with pytest.raises(ProtocolError):
        unpack(body[:-1])  # blob table no longer matches
    with pytest.raises(ProtocolError):
        unpack(b"\x00\x00\x00\x05{bad}")
    nested = json.dumps({"v": None, "b": []}).replace("null", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ProtocolError):
        unpack(len(nested).to_bytes(4, "big") + nested.encode())
    big = pack({"v": list(range(1000))})[4:]
    assert unpack(big)[0]["v"][-1] == 999
    with pytest.raises(ProtocolError, match="JSON"):
        unpack(big, max_json=1000)
    with pytest.raises(ValueError, match="as JSON"):
        pack({"v": list(range(1000))}, max_json=1000)
    bad: list[Any] = [{"X": 1}, {"A": 5}, {"H": ["1", "x"]}, {"L": [], "T": []}, [1]]
    for tree in bad:
        with pytest.raises(ProtocolError):
            decode(tree, [], lambda i, t: Handle(i, t))


def test_a_payload_named_twice_is_refused_so_a_reply_cannot_amplify() -> None:
    """A forged reply naming one 1 MiB payload 4,000 times would decode to 4 GiB."""
    blob = [memoryview(_npy(np.zeros(1 << 17)))]
    with pytest.raises(ProtocolError, match="referred to more than once"):
        decode({"L": [{"A": 0}] * 4000}, blob, lambda i, t: Handle(i, t))
    with pytest.raises(ProtocolError, match="referred to more than once"):
        decode({"T": [{"S": 0}, {"S": 0}]}, [memoryview(_npy(np.float64(1.0)))], Handle)
    same = np.ones(3)
    back = _roundtrip((same, same, [same]))  # one array three times: three payloads
    assert [type(a) for a in (back[0], back[1], back[2][0])] == [np.ndarray] * 3


def test_limits_reject_non_positive_values() -> None:
    with pytest.raises(ValueError, match="call_timeout"):
        Limits(call_timeout=0)
    assert Limits.from_json(Limits(memory_mb=7).to_json()) == Limits(memory_mb=7)


def test_mount_plan_binds_the_interpreter_back_but_never_a_hidden_path(tmp_path) -> None:
    course = tmp_path / "course"
    venv = course / ".venv" / "lib"
    secret = course / "solutions"
    for path in (venv, secret):
        path.mkdir(parents=True)
    plan = plan_mounts((str(course),), (str(venv), str(course), str(venv / "x"), "/usr/lib"))
    assert str(course) in plan.covers and "/root" in plan.covers
    # the venv comes back; the course root (also on sys.path) must not, nor what is uncovered
    assert plan.binds == (str(venv),)
    assert "/tmp" in plan.scratch
    with pytest.raises(ValueError):
        plan_mounts(("/",), ())


@pytest.mark.parametrize("descr", ["<f0", "<i16", "<c3"])
def test_type_codes_numpy_does_not_know_are_protocol_errors(descr: str) -> None:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 8
    with pytest.raises(ProtocolError):
        parse_npy(blob)


def test_header_cache_never_skips_a_check() -> None:
    from autograder.sandbox import codec

    good = _npy(np.arange(6.0).reshape(2, 3))
    assert parse_npy(good).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert parse_npy(good).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]  # from the cache
    with pytest.raises(ProtocolError, match="needs"):
        parse_npy(good[:-8])  # a known header, one element short
    refused = _npy(np.array(["a"]))
    for _ in range(2):  # a refused header is never cached as good
        with pytest.raises(ProtocolError):
            parse_npy(refused)
    for n in range(2 * codec._CACHE_LIMIT):  # endless distinct shapes: the cache stays bounded
        assert parse_npy(_roundtrip_blob(np.zeros(n))).shape == (n,)
    assert len(codec._headers) <= codec._CACHE_LIMIT
    assert len(codec._prefixes) <= codec._CACHE_LIMIT


def _roundtrip_blob(array: np.ndarray) -> bytes:
    _, blobs = encode(array, _refuse)
    return blobs[0]
