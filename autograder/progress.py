"""Progress for long runs: a bar with rate and ETA on a terminal, plain lines in CI logs."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from typing import IO


class Progress:
    """Counts finished submissions by status and reports at a sensible pace.

    On a TTY the bar is redrawn in place at most ten times a second (and every second, for its
    clock); elsewhere (CI logs, files) one line is printed every ``interval`` seconds while
    submissions finish, every ``quiet`` seconds while none does, and at the end, so logs stay
    short.
    """

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        stream: IO[str] | None = None,
        interval: float = 5.0,
        quiet: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.reused = done
        self.untimed = done  # resumed, or settled at once (no file): not in the rate
        self.done = done
        self.stream = stream
        self.interval = interval
        self.quiet = quiet
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

    def advance(self, status: str, score: float | None = None, *, instant: bool = False) -> None:
        """One more submission finished; ``instant`` when it took no grading (no file, say),
        so it does not count towards the rate that the time left is estimated from."""
        self.done += 1
        self.untimed += instant
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

    def tick(self) -> None:
        """Time passed with or without a result (the grading loop calls this a few times a
        second): the bar's clock moves every second, and a log gets a line every ``interval``
        seconds with news, or every ``quiet`` seconds without, so a stall still shows."""
        if self.stream is None or self.done == self.total:
            return
        now = self.clock()
        if self.tty and now - self.last >= 1.0:
            self._write("\r" + self.line(now))
            self.last, self.shown = now, self.done
        elif not self.tty and now - self.last >= (
            self.interval if self.shown != self.done else self.quiet
        ):
            self._write(self.line(now) + "\n")
            self.last, self.shown = now, self.done

    def show(self) -> None:
        """Draw the bar now (on a terminal), e.g. after many instant results at the start."""
        if self.tty and self.stream is not None and self.shown != self.done:
            now = self.clock()
            self._write("\r" + self.line(now))
            self.last, self.shown = now, self.done

    def _fit(self, text: str) -> str:
        """On a terminal, a line no wider than it: a wrapped line cannot be redrawn in place."""
        if not self.tty or self.stream is None:
            return text
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return text
        if columns <= 0:  # a pty nobody sized (`script` from a pipe, `docker exec -t`)
            width = os.environ.get("COLUMNS", "")
            columns = int(width) if width.isascii() and width.isdigit() else 0
            if columns <= 0:
                return text
        if len(text) < columns:
            return text
        text = text.split("] ", 1)[-1]  # the bar goes first, then the rest is cut
        return text[: max(columns - 1, 0)]

    def line(self, now: float) -> str:
        return self._fit(self._line(now))

    def _line(self, now: float) -> str:
        fresh = self.done - self.untimed
        elapsed = max(now - self.started, 1e-9)
        rate = fresh / elapsed
        remaining = self.total - self.done
        # Before the first result there is no rate to guess from: "0:00" would promise the end
        # (which it is when nothing remains, every submission settled at once or resumed).
        eta = _clock(remaining / rate) if rate > 0 else "-:--" if remaining else _clock(0)
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"[{bar}] {self.done}/{self.total}  {rate:6.1f}/s  elapsed {_clock(elapsed)}  eta {eta}"
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
