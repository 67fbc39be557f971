"""Progress for long runs: a bar with rate and ETA on a terminal, plain lines in CI logs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import IO


class Progress:
    """Counts finished submissions by status and reports at a sensible pace.

    On a TTY the bar is redrawn in place at most ten times a second; elsewhere (CI logs, files)
    one line is printed every ``interval`` seconds and at the end, so logs stay short.
    """

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        stream: IO[str] | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.reused = done
        self.done = done
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last = self.started
        self.statuses: Counter[str] = Counter()
        self.score_sum = 0.0
        self.scored = 0
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.shown = -1  # the `done` count of the last line written
        if done:
            self._write(f"resuming: {done} of {total} submissions already graded\n")

    def _write(self, text: str) -> None:
        """Progress is for whoever watches: a terminal or pipe that went away (a closed ssh
        session, ``| head``) stops the progress, never the grading."""
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.stream = None

    def advance(self, status: str, score: float | None = None) -> None:
        self.done += 1
        self.statuses[status] += 1
        if score is not None:
            self.score_sum += score
            self.scored += 1
        now = self.clock()
        if self.stream is None:
            return
        if self.tty and (now - self.last >= 0.1 or self.done == self.total):
            self._write("\r" + self.line(now))
            self.last, self.shown = now, self.done
        elif not self.tty and now - self.last >= self.interval:
            self._write(self.line(now) + "\n")
            self.last, self.shown = now, self.done

    def line(self, now: float) -> str:
        fresh = self.done - self.reused
        elapsed = max(now - self.started, 1e-9)
        rate = fresh / elapsed
        remaining = self.total - self.done
        eta = remaining / rate if rate > 0 else 0.0
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"[{bar}] {self.done}/{self.total}  {rate:6.1f}/s  "
            f"elapsed {_clock(elapsed)}  eta {_clock(eta)}"
        )

    def finish(self) -> None:
        if self.stream is None:
            return
        if self.tty:
            self._write(("\r" + self.line(self.clock()) if self.shown != self.done else "") + "\n")
        elif self.done > self.reused and self.shown != self.done:
            self._write(self.line(self.clock()) + "\n")


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
