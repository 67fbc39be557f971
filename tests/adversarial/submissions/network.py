"""Hostile: reach the network: the test's loopback server, a listening socket, unix sockets.

Attack: connect over TCP to 127.0.0.1:PORT and ::1 (test_hostile.py runs a server there and
counts what reaches it), send UDP datagrams there, connect to the test's abstract unix
socket, listen on 127.0.0.1 and 0.0.0.0 (a server for later submissions), create a
socketpair, and try io_uring_setup (which would let socket creation bypass a seccomp filter).
Loopback targets only.
Why it must fail: seccomp denies socket/socketpair and io_uring; the worker also sits in its
own network namespace with no interfaces up.
Earns points only if: any socket is created or any byte reaches the test server.
"""

from __future__ import annotations

import ctypes
import socket

import numpy as np

NAME = "network"
PORT = "__AG_PORT__"
UNIX = "__AG_UNIX__"
IO_URING_SETUP = 425


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
def _honest_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """The right answer: only ever used as the signal that the attack succeeded."""
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x, W)


def _honest_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right gradients: only ever used as the signal that the attack succeeded."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _attempt(label: str, action: object, wins: list[str]) -> None:
    try:
        result = action()  # type: ignore[operator]
        wins.append(f"{label}: {result}")
    except BaseException as exc:
        _say(f"{label}: {type(exc).__name__}: {exc}")


def _tcp(host: str, family: int) -> str:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect((host, int(PORT)))
        sock.sendall(f"ag_hostile {NAME} tcp\n".encode())
        return "connected"


def _udp() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(f"ag_hostile {NAME} udp\n".encode(), ("127.0.0.1", int(PORT)))
        return "sent"


def _unix() -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect("\0" + UNIX)
        sock.sendall(f"ag_hostile {NAME} unix\n".encode())
        return "connected"


def _listen(host: str) -> str:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(5)
    return f"listening on {server.getsockname()}"


def _io_uring() -> str:
    params = ctypes.create_string_buffer(120)
    fd = ctypes.CDLL(None, use_errno=True).syscall(IO_URING_SETUP, 4, params)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup refused")
    return f"io_uring fd {fd}"


def _attack() -> list[str]:
    wins: list[str] = []
    if not PORT.startswith("__AG_"):
        _attempt("tcp 127.0.0.1", lambda: _tcp("127.0.0.1", socket.AF_INET), wins)
        _attempt("tcp ::1", lambda: _tcp("::1", socket.AF_INET6), wins)
        _attempt("udp 127.0.0.1", _udp, wins)
    if not UNIX.startswith("__AG_"):
        _attempt("abstract unix", _unix, wins)
    _attempt("listen 127.0.0.1", lambda: _listen("127.0.0.1"), wins)
    _attempt("listen 0.0.0.0", lambda: _listen("0.0.0.0"), wins)
    _attempt("socketpair", lambda: str(socket.socketpair()), wins)
    _attempt("io_uring_setup", _io_uring, wins)
    return wins


_say("ran")
WINS = _attack()
_say(f"network reached: {WINS}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
