from __future__ import annotations

import csv
import html as html_lib
import io
import json
import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autograder.report import (
    atomic_write,
    feedback_markdown,
    gradebook_csv,
    gradebook_json,
    gradescope_results,
    markdown_text,
    remove_abandoned_temporaries,
    write_gradebooks,
    write_reports,
)
from autograder.rubric import Rubric, load_rubric
from autograder.scoring import FAILED, PASSED, STATUS_MISSING, TestOutcome, score


def grades(rubric: Rubric):  # type: ignore[no-untyped-def]
    return [
        score(rubric, "zoe", [TestOutcome("t::x", i, PASSED) for i in "abc"], output="hello\n"),
        score(rubric, "adam", [TestOutcome("t::x", "a", FAILED, "dW is transposed")]),
        score(rubric, "nobody", [], status=STATUS_MISSING, load_problem="No toy.py"),
    ]


def test_grades_json_follows_the_contract(toy_rubric: Rubric) -> None:
    doc = json.loads(gradebook_json(toy_rubric, grades(toy_rubric)))
    assert doc["assignment"] == "toy" and doc["max_score"] == 8.0
    assert list(doc["students"]) == ["adam", "nobody", "zoe"]
    zoe = doc["students"]["zoe"]
    assert set(zoe) == {"score", "max_score", "status", "items", "feedback"}
    assert zoe["score"] == 8.0 and zoe["status"] == "graded"
    one = {"score": 4.0, "max_score": 4.0, "feedback": "The one check passed."}
    assert zoe["items"]["a"] == one
    assert doc["students"]["nobody"]["status"] == "missing"
    assert "dW is transposed" in doc["students"]["adam"]["items"]["a"]["feedback"]


def test_csv_has_a_column_per_item(toy_rubric: Rubric) -> None:
    rows = list(csv.reader(io.StringIO(gradebook_csv(toy_rubric, grades(toy_rubric)))))
    assert rows[0] == ["student", "status", "score", "max_score", "a", "b", "c"]
    assert rows[3] == ["zoe", "graded", "8", "8", "4", "3", "1"]


def test_a_student_id_that_looks_like_a_formula_stays_text_in_the_csv(
    toy_rubric: Rubric,
) -> None:
    names = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "plain-name"]
    rows = [score(toy_rubric, name, []) for name in names]
    students = [row[0] for row in csv.reader(io.StringIO(gradebook_csv(toy_rubric, rows)))][1:]
    assert sorted(students) == sorted(["'" + n for n in names[:4]] + ["plain-name"])
    assert not any(s.startswith(("=", "+", "-", "@")) for s in students)


def test_feedback_files_hide_hidden_items_and_show_output(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    write_reports(tmp_path, toy_rubric, grades(toy_rubric))
    zoe = (tmp_path / "feedback" / "zoe.md").read_text()
    assert "(`a`)" in zoe and "(`b`)" in zoe and "(`c`)" not in zoe
    assert "hello" in zoe
    assert json.loads((tmp_path / "grades.json").read_text())["students"]["zoe"]["score"] == 8.0
    assert not list(tmp_path.rglob("*.tmp"))


def test_atomic_write_keeps_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "grades.json"
    atomic_write(target, "old complete\n")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("autograder.report.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space") as caught:
        atomic_write(target, "new, never completed\n")
    assert caught.value.filename == str(target)  # what was asked for, not the temporary
    assert target.read_text() == "old complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.json"]


def test_a_write_that_cannot_start_names_the_file_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only filesystem said ``Read-only file system: .grades.json.1234.tmp``: a file the
    user never asked for, in the message of ``grade`` or ``export``."""
    target = tmp_path / "grades.json"
    real_open = os.open

    def read_only(path: str | Path, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".tmp"):
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("autograder.report.os.open", read_only)
    with pytest.raises(OSError, match="Read-only") as caught:
        atomic_write(target, "new\n")
    assert caught.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def _finished_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def test_temporaries_a_killed_writer_left_are_removed_and_no_others(tmp_path: Path) -> None:
    """``export`` writes its file through a temporary beside it; SIGKILL left the temporary
    (``.linear.zip.1234.tmp``, and a gradebook's sqlite journal) in the user's folder."""
    target = tmp_path / "linear.zip"
    gone, running = _finished_pid(), os.getppid()  # our parent: alive, and not us
    names = {
        "abandoned": f".linear.zip.{gone}.tmp",
        "journal": f".linear.zip.{gone}.tmp-journal",
        "being written": f".linear.zip.{running}.tmp",
        "ours": f".linear.zip.{os.getpid()}.tmp",
        "another file's": f".mlp.zip.{gone}.tmp",
        "not our naming": f".linear.zip.{gone}.tmp.bak",
        "no pid": ".linear.zip.x.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_text("partial")
    (tmp_path / "dir").mkdir()
    link = tmp_path / f".linear.zip.{_finished_pid()}.tmp"
    link.symlink_to(tmp_path / "dir")
    assert remove_abandoned_temporaries(target) == 2
    left = {p.name for p in tmp_path.iterdir()}
    assert names["abandoned"] not in left and names["journal"] not in left
    kept = ["being written", "ours", "another file's", "not our naming", "no pid"]
    assert {names[k] for k in kept} <= left
    assert link.name in left  # a link is not a file we wrote
    assert remove_abandoned_temporaries(tmp_path / "missing" / "x.zip") == 0


def test_grades_csv_and_json_are_replaced_together_or_not_at_all(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_gradebooks(out, toy_rubric, grades(toy_rubric)[:1])
    old = {name: (out / name).read_bytes() for name in ("grades.csv", "grades.json")}
    real_fsync = os.fsync
    fsyncs: list[int] = []

    def full_at_the_second_file(fd: int) -> None:  # grades.csv is written, grades.json is not
        fsyncs.append(fd)
        if len(fsyncs) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("autograder.report.os.fsync", full_at_the_second_file)
    with pytest.raises(OSError, match="No space"):
        write_gradebooks(out, toy_rubric, grades(toy_rubric))
    assert {name: (out / name).read_bytes() for name in old} == old  # not one old, one new
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "grades.json"]
    monkeypatch.setattr("autograder.report.os.fsync", real_fsync)
    write_gradebooks(out, toy_rubric, grades(toy_rubric))
    assert len(json.loads((out / "grades.json").read_text())["students"]) == 3
    assert len((out / "grades.csv").read_text().splitlines()) == 4


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_between_the_two_renames_waits_for_the_second(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    """Ctrl-C, SIGTERM (or SIGHUP), as the CLI handles them, just after grades.csv was
    renamed over: grades.json was then left the old one beside the new grades.csv."""
    from autograder import cli

    out = tmp_path / "out"
    out.mkdir()
    write_gradebooks(out, toy_rubric, grades(toy_rubric)[:1])
    real_replace = os.replace

    def stopped_after_the_csv(source: Any, target: Any) -> None:
        real_replace(source, target)
        if Path(target).name == "grades.csv":
            os.kill(os.getpid(), signum)

    monkeypatch.setattr("autograder.report.os.replace", stopped_after_the_csv)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for number in handlers:
            signal.signal(number, cli._terminate)
        with pytest.raises(KeyboardInterrupt):  # cli.Terminated is one too
            write_gradebooks(out, toy_rubric, grades(toy_rubric))
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert len(json.loads((out / "grades.json").read_text())["students"]) == 3
    assert len((out / "grades.csv").read_text().splitlines()) == 4
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "grades.json"]


def test_a_rename_that_fails_puts_back_the_file_renamed_before_it(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """grades.json cannot be replaced (made immutable, a folder put in its place) once
    grades.csv was: the old grades.csv goes back, and the error is the grades.json's."""
    out = tmp_path / "out"
    out.mkdir()
    write_gradebooks(out, toy_rubric, grades(toy_rubric)[:1])
    old = {name: (out / name).read_bytes() for name in ("grades.csv", "grades.json")}
    real_replace = os.replace

    def refused_for_the_json(source: Any, target: Any) -> None:
        if Path(target).name == "grades.json" and ".old." not in Path(source).name:
            raise PermissionError(1, "Operation not permitted")
        real_replace(source, target)

    monkeypatch.setattr("autograder.report.os.replace", refused_for_the_json)
    with pytest.raises(PermissionError, match="grades.json"):
        write_gradebooks(out, toy_rubric, grades(toy_rubric))
    assert {name: (out / name).read_bytes() for name in old} == old  # not one old, one new
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "grades.json"]
    # The first run: no old grades.csv to put back; the new one goes, not left without its json.
    first = tmp_path / "first"
    first.mkdir()
    with pytest.raises(PermissionError, match="grades.json"):
        write_gradebooks(first, toy_rubric, grades(toy_rubric))
    assert list(first.iterdir()) == []


@pytest.fixture
def own_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """SIGINT, SIGTERM and SIGHUP handled as the CLI does; pytest's own back afterwards."""
    from autograder import cli

    monkeypatch.setattr(cli, "_stopped_by", [])  # what a SIGTERM here notes is not a later run's
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, cli._terminate)
    yield {n: signal.getsignal(n) for n in handlers}
    for number, handler in handlers.items():
        signal.signal(number, handler)


def _arriving_as(monkeypatch: pytest.MonkeyPatch, installs: Any, signum: int) -> None:
    """``signum`` arrives right after the handler ``installs(number, handler)`` picks is set:
    in the middle of ``signals_held`` changing them."""
    real_signal = signal.signal
    sent: list[int] = []

    def setting(number: int, handler: Any) -> Any:
        previous = real_signal(number, handler)
        if not sent and installs(number, handler):
            sent.append(number)
            signal.raise_signal(signum)
        return previous

    monkeypatch.setattr(signal, "signal", setting)


def test_a_signal_while_the_handlers_are_put_back_drops_no_later_one(
    own_signal_handlers: dict[int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C just after SIGINT's handler was back raised there, and SIGTERM's stayed the one
    that holds it: every later SIGTERM was silently dropped."""
    from autograder import cli
    from autograder.report import signals_held

    original = own_signal_handlers
    _arriving_as(monkeypatch, lambda n, h: n == signal.SIGINT and h is original[n], signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), signals_held():
        pass
    with pytest.raises(cli.Terminated):
        signal.raise_signal(signal.SIGTERM)
    with pytest.raises(cli.Terminated):
        signal.raise_signal(signal.SIGHUP)


def test_a_signal_while_the_handlers_are_set_drops_no_later_one(
    own_signal_handlers: dict[int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM just after SIGINT's handler was set stopped the step before it began (nothing
    done half-way), and left SIGINT's holding: every later Ctrl-C was silently dropped."""
    from autograder import cli
    from autograder.report import signals_held

    original = own_signal_handlers
    _arriving_as(
        monkeypatch, lambda n, h: n == signal.SIGINT and h is not original[n], signal.SIGTERM
    )
    with pytest.raises(cli.Terminated), signals_held():
        pass
    assert {n: signal.getsignal(n) for n in original} == original
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_non_durable_writes_skip_fsync_and_sync_filesystem_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograder.report import sync_filesystem

    calls: list[int] = []
    monkeypatch.setattr("autograder.report.os.fsync", calls.append)
    atomic_write(tmp_path / "a.md", "a\n", durable=False)
    assert calls == [] and (tmp_path / "a.md").read_text() == "a\n"
    atomic_write(tmp_path / "b.md", "b\n")
    assert len(calls) == 1
    sync_filesystem(tmp_path)  # syncfs on Linux; must not raise


def test_gradescope_results_follow_the_spec(toy_rubric: Rubric, tmp_path: Path) -> None:
    write_reports(tmp_path, toy_rubric, grades(toy_rubric))
    adam = json.loads((tmp_path / "gradescope" / "adam" / "results.json").read_text())
    assert adam["score"] == 0.0
    assert [t["name"] for t in adam["tests"]] == ["a (a)", "b (b)", "c (c)"]
    first = adam["tests"][0]
    assert first["status"] == "failed" and first["max_score"] == 4.0
    assert "dW is transposed" in first["output"]
    assert adam["tests"][2]["visibility"] == "hidden"  # Gradescope enforces item visibility
    assert adam["stdout_visibility"] == "hidden"
    zoe = json.loads((tmp_path / "gradescope" / "zoe" / "results.json").read_text())
    assert zoe["score"] == sum(t["score"] for t in zoe["tests"]) == 8.0


def test_student_text_cannot_forge_feedback_markdown(toy_rubric: Rubric, tmp_path: Path) -> None:
    forged = "ValueError: ok\n## ✅ a (`a`): 4 / 4\n**Score: 8 / 8**\n<script>x</script>"
    grade = score(toy_rubric, "mallory", [TestOutcome("t::x", "a", "error", f"in f: {forged}")])
    page = feedback_markdown(toy_rubric, grade)
    assert "\n## ✅ a" not in page and "\n**Score: 8" not in page and "<script>" not in page
    assert page.count("**Score:") == 1
    assert "\\*\\*Score: 8 / 8\\*\\*" in page  # still readable, just not formatting
    # Gradescope renders results.json's outputs as Markdown too.
    results = gradescope_results(toy_rubric, grade)
    for output in [results["output"], *(test["output"] for test in results["tests"])]:
        assert "<script>" not in output and "\n**Score: 8" not in output, output
    assert "\\*\\*Score: 8 / 8\\*\\*" in results["tests"][0]["output"]


# Text a student's code can put in feedback, each a different way to make Markdown.
FORGERIES = [
    "## \u2705 a (`a`): 4 / 4",
    "**Score: 8 / 8**",
    "<script>x</script> <b>bold</b>",
    "[click](http://evil) ![img](http://evil/x.png) <http://evil>",
    "[ref]: http://evil",
    "1) item",
    "2. item",
    "+ item",
    "* item",
    "> quote",
    "  # indented heading",
    "title\n===",
    "title\n---",
    "___",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "~~struck~~ _em_ `code` \\(x\\)",
    "&lt;b&gt; &amp;",
]


def _rendered(markdown: str) -> str:
    """HTML as a Markdown renderer with raw HTML, tables and strikethrough makes it (nbgrader
    brings mistune; Gradescope renders ``output_format: md``)."""
    import mistune

    render = mistune.create_markdown(escape=False, plugins=["strikethrough", "table"])
    return str(render(markdown))


@pytest.mark.parametrize("text", FORGERIES)
def test_escaped_student_text_renders_as_exactly_that_text(text: str) -> None:
    html = _rendered(markdown_text(text))
    tags = set(re.findall(r"</?(\w+)", html))
    assert tags <= {"p", "br"}, html  # a break between the lines of a message, as in text
    shown = html_lib.unescape(re.sub(r"</?p>|<br />", "", html)).strip()
    assert shown == "\n".join(line.strip() for line in text.splitlines()), html


def test_each_line_the_grader_wrote_stays_a_line_when_rendered() -> None:
    """A message and the hint under it were one paragraph: "... 'matplotlib' Hint: that ..."."""
    text = "ModuleNotFoundError at linear.py line 2: No module named 'matplotlib'\nHint: that"
    html = _rendered(markdown_text(text + " module is not there\n- a bullet\n- another\n\nNext"))
    assert re.findall(r"</?(\w+)", html) == [
        "p",
        "br",
        "p",
        "ul",
        "li",
        "li",
        "li",
        "li",
        "ul",
        "p",
        "p",
    ]
    assert "'matplotlib'<br />\nHint: that" in html_lib.unescape(html), html


def test_the_graders_own_bullets_stay_bullets_and_their_text_stays_text() -> None:
    html = _rendered(markdown_text("- # not a heading\n- [x](y)\n- 3. not a list"))
    assert re.findall(r"</?(\w+)", html) == ["ul"] + ["li", "li"] * 3 + ["ul"], html


def test_the_graders_own_text_needs_no_escapes_to_read() -> None:
    """The raw .md is read too (a TA opening the file, an LMS that shows it as text)."""
    line = "dW has shape (3, 4), expected (4, 3) (for B=1, D=4, F=3); 2 of 7 checks passed."
    assert markdown_text(line) == line


def test_the_page_states_the_total_once(tmp_path: Path) -> None:
    """The heading states it; the summary under it goes on to what was lost."""
    path = tmp_path / "rubric.yml"
    path.write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 2.5\n"
        "  - id: b\n    points: 2\n"
    )
    rubric = load_rubric(path)
    half = [TestOutcome("t::x", "a", PASSED), TestOutcome("t::y", "b", FAILED, "wrong")]
    full = [TestOutcome(f"t::{i}", i, PASSED) for i in rubric.ids]
    for outcomes, summary in (
        (half, "Points lost on: b. See each item below for what was checked"),
        (full, "Full marks. Every item passed."),
    ):
        grade = score(rubric, "zoe", outcomes)
        total = f"{grade.score:g}/{grade.max_score:g}"
        assert total in grade.feedback  # grades.json and results.json's summary keep it
        page = feedback_markdown(rubric, grade)
        assert page.count(f"{grade.score:g} / {grade.max_score:g}") == 1, page
        assert total not in page and f"\n{summary}" in page, page


def test_long_student_ids_get_distinct_feedback_files_that_fit(tmp_path: Path) -> None:
    from autograder.report import feedback_path

    a, b = "x" * 250 + "a", "x" * 250 + "b"
    path_a, path_b = feedback_path(tmp_path, a), feedback_path(tmp_path, b)
    assert path_a != path_b
    assert len(path_a.name.encode()) <= 255
    assert feedback_path(tmp_path, "zoe") == tmp_path / "feedback" / "zoe.md"


def test_after_due_date_items_are_left_out_of_feedback_until_the_due_date(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rubric.yml"
    path.write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 2\n"
        "  - id: late\n    title: Revealed later\n    points: 1\n    visibility: after_due_date\n"
    )
    rubric = load_rubric(path)
    outcomes = [TestOutcome("t::x", "a", PASSED), TestOutcome("t::y", "late", PASSED)]
    grade = score(rubric, "zoe", outcomes)
    early = feedback_markdown(rubric, grade, before_due=True)
    assert "Revealed later" not in early
    # Its points count in the total, so the total (and "Full marks") would tell how it went.
    assert "3 / 3" not in early and "Full marks" not in early and "3/3" not in early
    assert "**Score: not shown (some items are not shown here)**" in early
    assert "Every item shown here passed." in early
    late = feedback_markdown(rubric, grade, before_due=False)
    assert "Revealed later" in late and "**Score: 3 / 3**" in late and "Full marks" in late


def test_no_student_facing_summary_gives_away_a_hidden_items_points(tmp_path: Path) -> None:
    """Gradescope: "If test cases are hidden, students will not be able to see their total
    score." The summary at the top of results.json (shown at once) and the feedback page used
    to say "Score 15.25/20. Points lost on: 1 hidden item"."""
    path = tmp_path / "rubric.yml"
    path.write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 2\n"
        "  - id: b\n    points: 2\n"
        "  - id: secret\n    points: 1\n    visibility: hidden\n"
    )
    rubric = load_rubric(path)
    outcomes = [
        TestOutcome("t::x", "a", PASSED),
        TestOutcome("t::y", "b", FAILED, "wrong"),
        TestOutcome("t::z", "secret", FAILED, "wrong"),
    ]
    grade = score(rubric, "zoe", outcomes)
    assert grade.feedback.startswith("Score 2/5. Points lost on: b and 1 hidden item.")  # ours
    results = gradescope_results(rubric, grade)
    page = feedback_markdown(rubric, grade)
    for text in (results["output"], page):
        assert "2/5" not in text and "2 / 5" not in text and "hidden item" not in text, text
        assert "Points lost on: b. See each item below" in text
        assert "so your total score is not shown either" in text
    assert results["score"] == 2.0  # Gradescope's own total, which Gradescope keeps hidden
    passed = score(rubric, "ann", [TestOutcome("t::x", i, PASSED) for i in rubric.ids])
    assert "Full marks" not in gradescope_results(rubric, passed)["output"]
    assert "Every item shown here passed." in gradescope_results(rubric, passed)["output"]


def test_the_student_id_in_the_feedback_heading_cannot_forge_markdown(
    toy_rubric: Rubric,
) -> None:
    grade = score(toy_rubric, "<script>x</script>](http://evil)", [])
    heading = feedback_markdown(toy_rubric, grade).splitlines()[0]
    assert "<script>" not in heading and "<a " not in _rendered(heading)
    assert heading.endswith("feedback for \\<script\\>x\\</script\\>\\](http://evil)")


def test_a_carriage_return_in_a_student_id_cannot_split_a_csv_row(toy_rubric: Rubric) -> None:
    rows = [score(toy_rubric, name, []) for name in ("cr\rid", "lf\nid", "plain")]
    parsed = list(csv.reader(io.StringIO(gradebook_csv(toy_rubric, rows), newline="")))
    assert [row[0] for row in parsed] == ["student", "cr\rid", "lf\nid", "plain"]


def test_only_the_graders_own_leftovers_are_removed(tmp_path: Path) -> None:
    from autograder.report import remove_stale_temporaries

    ours = [
        tmp_path / ".grades.json.4242.tmp",
        tmp_path / "feedback" / ".zoe.md.17.tmp",
        tmp_path / "gradescope" / "zoe" / ".results.json.17.tmp",
        tmp_path / ".autograder" / ".journal.jsonl.9.tmp",
    ]
    theirs = [  # --out may be a folder that holds other things too
        tmp_path / "notes" / "deep" / ".draft.1.tmp",
        tmp_path / ".draft.tmp",
        tmp_path / "feedback" / ".zoe.md.bak.tmp",
    ]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert remove_stale_temporaries(tmp_path) == len(ours)
    assert not any(p.exists() for p in ours) and all(p.exists() for p in theirs)


def test_a_folder_in_the_way_is_what_the_error_names(tmp_path: Path) -> None:
    (tmp_path / "grades.json").mkdir()
    with pytest.raises(OSError) as caught:
        atomic_write(tmp_path / "grades.json", "{}\n")
    assert caught.value.filename == str(tmp_path / "grades.json")
    assert [p.name for p in tmp_path.iterdir()] == ["grades.json"]  # no temporary left


def test_the_summary_line_never_names_an_item_not_shown_yet(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yml"
    path.write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n  - id: shown\n    points: 1\n"
        "  - id: secret_item\n    points: 1\n    visibility: hidden\n"
        "  - id: later_item\n    points: 1\n    visibility: after_due_date\n"
    )
    rubric = load_rubric(path)
    outcomes = [TestOutcome(f"t::{i}", i, FAILED, "wrong") for i in rubric.ids]
    grade = score(rubric, "zoe", outcomes)
    assert (
        "Points lost on: shown and 1 item shown after the due date and 1 hidden item."
        in grade.feedback
    )
    assert "secret_item" not in feedback_markdown(rubric, grade, before_due=True)
    results = json.dumps(gradescope_results(rubric, grade)["output"])
    assert "secret_item" not in results and "later_item" not in results


def test_a_tampered_list_of_reports_never_reaches_outside_out(tmp_path: Path) -> None:
    """reported.json names the students whose reports an earlier run wrote; an entry like
    "../../victim" used to make grade delete victim.md and victim/results.json outside --out."""
    from autograder.report import remove_reports_of_others

    out = tmp_path / "deep" / "out"
    (out / ".autograder").mkdir(parents=True)
    victims = [tmp_path / "deep" / "victim.md", tmp_path / "victim" / "results.json"]
    for victim in victims:
        victim.parent.mkdir(parents=True, exist_ok=True)
        victim.write_text("keep")
    ours = out / "feedback" / "gone.md"
    ours.parent.mkdir()
    ours.write_text("old report")
    listed = ["../victim", "../../victim", "..", "/etc", "gone"]
    (out / ".autograder" / "reported.json").write_text(json.dumps(listed))
    assert remove_reports_of_others(out, []) == 1
    assert all(victim.read_text() == "keep" for victim in victims)
    assert not ours.exists()


def test_a_refusal_listed_before_the_timeout_it_refers_to_says_where_that_is(
    toy_rubric: Rubric,
) -> None:
    """check lists items in the rubric's order, not the order checks ran: mlp's dW2 said "did
    not finish in an earlier check" while that check (end_to_end) was only further down."""
    from autograder.summary import print_check_summary

    timeout = "while running f: f did not return within 10 s; the worker was killed"
    refusal = "f did not finish in an earlier check on inputs no larger than these (over 10 s), so"
    outcomes = [
        TestOutcome("t::late", "c", "error", timeout, (), "timeout"),
        TestOutcome("t::refused", "a", "error", refusal + " it was not run again", (), "timeout"),
        TestOutcome("t::b", "b", PASSED),
    ]
    out = io.StringIO()
    print_check_summary(toy_rubric, outcomes, out)
    assert "so it was not run again; that check is under [c] below\n" in out.getvalue()
    # Listed after the timeout: nothing to add.
    outcomes[0], outcomes[1] = (
        TestOutcome("t::late", "a", "error", timeout, (), "timeout"),
        TestOutcome("t::refused", "c", "error", refusal + " it was not run again", (), "timeout"),
    )
    out = io.StringIO()
    print_check_summary(toy_rubric, outcomes, out)
    assert "so it was not run again\n" in out.getvalue() and "below" not in out.getvalue()


def test_check_groups_a_finding_by_its_words_not_its_sizes(toy_rubric: Rubric) -> None:
    """One mistake on three sizes is one line with its count; an error on another line, or a
    finding about another output (W1, W2), is another mistake and keeps its own line."""
    from autograder.summary import print_check_summary

    def error(n: int, message: str) -> TestOutcome:
        return TestOutcome(f"t::{n}", "a", "error", message, (), "exception")

    matmul = "ValueError at f.py line {}: matmul mismatch (size {} is different from {})"
    outcomes = [
        error(1, matmul.format(12, 3, 4) + "\nHint: inner sizes (3 and 4)"),
        error(2, matmul.format(12, 3, 5) + "\nHint: inner sizes (3 and 5)"),
        error(3, matmul.format(30, 3, 4)),
        error(4, "grads['W1'] is wrong (for B=2): relative error 6.1e-01"),
        error(5, "grads['W2'] is wrong (for B=2): relative error 6.1e-01"),
        error(6, "grads['W2'] is wrong (for B=7): relative error 1.5e+00\nHint: transposed"),
        TestOutcome("t::7", "b", "error", matmul.format(12, 9, 8), (), "exception"),
    ]
    out = io.StringIO()
    print_check_summary(toy_rubric, outcomes, out)
    text = out.getvalue()
    assert (
        "- error: ValueError at f.py line 12: matmul mismatch (size 3 is different from 4) "
        "(2 checks; the numbers differ between them)\n"
    ) in text, text
    assert text.count("Hint: inner sizes") == 1, text  # the same hint, up to its numbers
    assert "- error: ValueError at f.py line 30: matmul mismatch" in text, text
    assert "- error: grads['W1'] is wrong (for B=2): relative error 6.1e-01\n" in text, text
    assert "grads['W2'] is wrong (for B=2): relative error 6.1e-01 (2 checks; the numbers" in text
    assert "Hint: transposed" in text, text  # the second of a group brings its own hint
    assert "- error: as under [a] above (1 check)" in text, text
