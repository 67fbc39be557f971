from __future__ import annotations

import io
import os

import pytest

from autograder.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_non_tty_prints_periodic_lines_with_rate_and_eta() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(100, stream=stream, interval=5.0, clock=clock)
    for _ in range(10):
        clock.now += 1.0
        progress.advance("graded")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # at 5 s and 10 s, not once per submission
    assert "10/100" in lines[-1] and "1.0/s" in lines[-1] and "eta 1:30" in lines[-1]
    progress.finish()  # the last line already shows 10/100: not written twice
    assert stream.getvalue().count("\n") == 2
    clock.now += 1.0
    progress.advance("graded")
    progress.finish()  # 11/100 was never shown: the summary line is written
    assert stream.getvalue().splitlines()[-1].startswith("[##")
    assert "11/100" in stream.getvalue().splitlines()[-1]


def test_a_log_hears_from_a_run_whose_submissions_are_slow_to_finish() -> None:
    """Lines used to come only when a submission finished: a class of slow ones left a CI log
    silent for as long as they took."""
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(8, stream=stream, interval=5.0, quiet=30.0, clock=clock)
    for _ in range(4 * 120):  # two minutes of ticks, four a second, and nothing finishes
        clock.now += 0.25
        progress.tick()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and all("0/8" in line for line in lines)  # at 5 s, then every 30 s
    assert all(line.endswith("eta -:--") for line in lines)  # unknown, not "0:00"
    assert "elapsed 0:05" in lines[0] and "elapsed 1:35" in lines[-1]
    progress.advance("graded")
    for _ in range(4 * 5):
        clock.now += 0.25
        progress.tick()
    assert "1/8" in stream.getvalue().splitlines()[-1]  # news: at the next interval (5 s)


def test_a_run_that_grades_nothing_ends_at_0_00() -> None:
    """Every student missing (settled at once) or resumed: no rate, nothing left. The end of
    such a run divided by its rate of zero, and grade stopped with a traceback."""
    for stream in (Tty(), io.StringIO()):
        clock = FakeClock()
        progress = Progress(3, done=1, stream=stream, clock=clock)
        for _ in range(2):
            clock.now += 6.0
            progress.advance("missing", instant=True)
        progress.finish()
        assert stream.getvalue().rstrip().endswith("eta 0:00")


def test_the_bars_clock_moves_while_nothing_finishes() -> None:
    clock, stream = FakeClock(), Tty()
    progress = Progress(3, stream=stream, clock=clock)
    for _ in range(12):
        clock.now += 0.25
        progress.tick()
    assert stream.getvalue().count("\r") == 3 and "elapsed 0:03" in stream.getvalue()
    progress.advance("graded")
    progress.advance("graded")
    progress.advance("graded")
    progress.tick()  # done: nothing more to draw
    assert stream.getvalue().rstrip().endswith("elapsed 0:03  eta 0:00")


def test_tty_redraws_in_place() -> None:
    clock, stream = FakeClock(), Tty()
    progress = Progress(3, stream=stream, clock=clock)
    for _ in range(3):
        clock.now += 0.5
        progress.advance("graded")
    progress.finish()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("3/3  " + text.split("3/3  ")[-1])
    assert "[########################] 3/3" in text and text.endswith("\n")


def test_resume_announces_reused_and_rates_only_new_work() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(10, done=8, stream=stream, clock=clock)
    clock.now = 2.0
    progress.advance("graded")
    assert "resuming: 8 of 10" in stream.getvalue()
    assert "0.5/s" in progress.line(clock.now)


def test_a_stream_that_went_away_stops_the_progress_not_the_grading() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    progress = Progress(3, done=1, stream=Gone(), interval=0.0)  # "resuming" is written first
    progress.advance("graded", 1.0)
    progress.advance("graded", 1.0)
    progress.finish()
    assert progress.stream is None and progress.done == 3


def test_submissions_settled_at_once_do_not_inflate_the_rate() -> None:
    # 40 students without a file are settled before grading starts; 12 slow ones take 4.4 s
    # each. The time left comes from the graded ones only, not 41 results in 4.4 s.
    clock, stream = FakeClock(), Tty()
    progress = Progress(52, stream=stream, clock=clock)
    for _ in range(40):
        progress.advance("missing", instant=True)
    progress.show()
    assert "40/52" in stream.getvalue()  # drawn at once, not when the first slow one ends
    clock.now = 4.4
    progress.advance("graded", 20.0)
    line = progress.line(clock.now)
    assert "41/52" in line and "0.2/s" in line and "eta 0:48" in line


class NarrowTty(Tty):
    def fileno(self) -> int:
        return 2


def test_the_bar_fits_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # A line wider than the terminal wraps, and "\r" then redraws only its last part.
    monkeypatch.setattr(
        "autograder.progress.os.get_terminal_size", lambda fd: os.terminal_size((40, 24))
    )
    clock, stream = FakeClock(), NarrowTty()
    progress = Progress(200, stream=stream, clock=clock)
    for _ in range(3):
        clock.now += 0.5
        progress.advance("graded")
    drawn = [part for part in stream.getvalue().split("\r") if part]
    assert drawn and all(len(part) < 40 for part in drawn)
    assert "3/200" in drawn[-1] and "eta" in drawn[-1]


def test_a_terminal_of_no_width_gets_the_whole_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pty nobody sized reports 0 columns: the bar was cut to nothing ("\r\r\r...")."""
    monkeypatch.setattr(
        "autograder.progress.os.get_terminal_size", lambda fd: os.terminal_size((0, 0))
    )
    monkeypatch.delenv("COLUMNS", raising=False)
    clock, stream = FakeClock(), NarrowTty()
    progress = Progress(200, stream=stream, clock=clock)
    clock.now += 0.5
    progress.advance("graded")
    assert "1/200" in stream.getvalue() and "eta" in stream.getvalue()
    monkeypatch.setenv("COLUMNS", "²")  # not a number to int(): ignored, not a crash
    clock.now += 0.5
    progress.advance("graded")
    monkeypatch.setenv("COLUMNS", "30")  # then COLUMNS, if set, is the width
    clock.now += 0.5
    progress.advance("graded")
    last = stream.getvalue().split("\r")[-1]
    assert "3/200" in last and len(last) < 30
