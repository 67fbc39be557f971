from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.rubric import load_rubric
from tests.cli.conftest import run_cli


def _unpacked_bundle(course: Path, tmp_path: Path) -> Path:
    """``export gradescope``'s zip, unpacked as Gradescope does: its ``/autograder``.

    Gradescope unpacks the zip into /autograder/source and runs setup.sh, then run_autograder
    once per submission with the student's files in /autograder/submission (empty here).
    """
    bundle = tmp_path / "exports" / "linear.zip"  # a folder the export makes
    result = run_cli("export", "gradescope", "linear", "--out", bundle, cwd=course)
    assert result.returncode == 0, result.stderr
    assert f"wrote Gradescope autograder {bundle}" in result.stdout
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    # Gradescope's unzip keeps the zip's modes, which let others read (extractall drops them).
    for path in (root / "source").rglob("*"):
        path.chmod(0o755 if path.is_dir() or path.name in ("setup.sh", "run_autograder") else 0o644)
    (root / "source").chmod(0o755)
    (root / "results").mkdir(mode=0o755)
    (root / "results" / "stdout").write_text("")  # Gradescope's harness writes it
    (root / "results" / "stdout").chmod(0o644)
    (root / "submission").mkdir()
    return root


def _run_autograder(
    root: Path, tmp_path: Path, email: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The bundle's run_autograder on ``root/submission``, submitted by ``email``."""
    metadata = root / "submission_metadata.json"
    metadata.unlink(missing_ok=True)
    if email is not None:  # Gradescope's file, trimmed to what the bundle reads
        users = [{"email": email, "id": 1234, "name": "Frank"}]
        metadata.write_text(json.dumps({"id": 99, "users": users}))
    # Without AUTOGRADER_SECRET: the bundle's own copy of the course secret is used.
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SECRET"}
    scratch = tmp_path / "scratch"  # where run_autograder's mktemp -d goes
    scratch.mkdir(exist_ok=True)
    env |= {
        "TMPDIR": str(scratch),
        "GRADESCOPE_ROOT": str(root),
        "AUTOGRADER_BIN": str(Path(sys.executable).parent / "autograder"),
    }
    return subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _coin_tosser(course: Path) -> str:
    """A student who tosses coins: dW is doubled on about half the calls. Which calls depends
    on the seed of the worker's random numbers, (secret, student id), and so the score."""
    reference = (course / "solutions" / "linear" / "linear.py").read_text()
    coins = reference.replace(
        "    dW = x.T @ dy\n",
        "    dW = x.T @ dy\n    if np.random.default_rng().random() < 0.5:\n        dW = dW * 2\n",
    )
    assert coins != reference
    return coins


def _graded_here(course: Path, tmp_path: Path, folder: Path, student: str) -> dict[str, object]:
    """``folder`` graded here under ``student``, with the bundle's secret: its results.json."""
    klass = tmp_path / f"class-{student}"
    shutil.copytree(folder, klass / student)
    out = tmp_path / f"out-{student}"
    local = run_cli("grade", "linear", klass, "--out", out, "--quiet", cwd=course)
    assert local.returncode == 0, local.stderr
    return json.loads((out / "gradescope" / student / "results.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("secret_file", [None, "private/key.txt"])
def test_the_gradescope_bundle_grades_a_submission_as_grade_does(
    course_copy: Path, tmp_path: Path, secret_file: str | None
) -> None:
    if secret_file is not None:  # the bundle must carry the secret whatever file course.yml names
        course_yml = course_copy / "course.yml"
        text = course_yml.read_text().replace(".autograder/secret", secret_file)
        assert secret_file in text
        course_yml.write_text(text)
    root = _unpacked_bundle(course_copy, tmp_path)
    with zipfile.ZipFile(tmp_path / "exports" / "linear.zip") as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "course/course.yml"} <= set(names)
    assert "package/autograder/cli.py" in names and "package/pyproject.toml" in names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any("__pycache__" in name for name in names)
    (root / "submission" / "linear.py").write_text(_coin_tosser(course_copy))

    def run_on_gradescope(email: str | None) -> dict[str, object]:
        ran = _run_autograder(root, tmp_path, email)
        assert ran.returncode == 0, ran.stderr
        return json.loads((root / "results" / "results.json").read_text())  # type: ignore[no-any-return]

    # Each student is graded under their own id (their hidden inputs are their own), exactly
    # as a local run on a folder named after their e-mail; without metadata, as "submission".
    frank = _graded_here(course_copy, tmp_path, root / "submission", "frank@example.edu")
    anonymous = _graded_here(course_copy, tmp_path, root / "submission", "submission")
    assert frank["score"] != anonymous["score"]  # the coins fall differently for each id
    assert run_on_gradescope("frank@example.edu") == frank
    assert run_on_gradescope(None) == anonymous
    assert list((tmp_path / "scratch").iterdir()) == []  # each run removed its working folder
    # Where the sandbox has no namespaces (isolation "none"), student code runs under a uid of
    # its own and reads whatever others may: the reference solution must not be among it.
    for top in (root / "source", root / "results"):
        for path in (top, *top.rglob("*")):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is open to others"


def test_a_submission_the_grader_cannot_grade_still_gets_a_results_json(
    course_copy: Path, tmp_path: Path
) -> None:
    root = _unpacked_bundle(course_copy, tmp_path)
    reference = course_copy / "solutions" / "linear" / "linear.py"
    (root / "submission" / "linear.py").write_text(reference.read_text())
    # 'grade' exits 2 before grading anyone: Gradescope would say only "The autograder failed
    # to execute correctly" (its message for a missing results.json).
    shutil.rmtree(root / "source" / "course" / "solutions" / "linear" / "tests")
    ran = _run_autograder(root, tmp_path, "frank@example.edu")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert set(results) == {"score", "output"} and results["score"] == 0
    assert "contact your instructor" in results["output"]
    assert "/" not in results["output"]  # no paths, nothing of the grader's
    # The instructor's output (Gradescope shows them run_autograder's stdout) says why.
    assert "the hidden tests folder does not exist" in ran.stdout
    assert "'autograder grade' exited with status 2" in ran.stdout
    assert "this submission was not graded" in ran.stdout
    assert (root / "results" / "results.json").stat().st_mode & 0o077 == 0


def test_the_results_json_grade_wrote_is_used_whatever_its_exit_status(
    course_copy: Path, tmp_path: Path
) -> None:
    root = _unpacked_bundle(course_copy, tmp_path)
    reference = course_copy / "solutions" / "linear" / "linear.py"
    (root / "submission" / "linear.py").write_text(reference.read_text())
    # A hidden test that raises while it runs: 'grade' writes every report, the submission
    # 'error' (the grader failed, not the student), and exits 1 (README: Course files).
    hidden = root / "source" / "course" / "solutions" / "linear" / "tests" / "test_linear_hidden.py"
    text = hidden.read_text()
    body = "    case = case_for(submission, rng_for, shape)\n    y, _ = forward_of("
    assert text.count(body) == 1
    hidden.write_text(text.replace(body, "    raise RuntimeError('a bug')\n" + body))
    ran = _run_autograder(root, tmp_path, "frank@example.edu")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "'autograder grade' exited with status 1" in ran.stdout
    assert "error: grader failed on frank@example.edu" in ran.stdout
    assert "this submission was not graded" not in ran.stdout
    results = json.loads((root / "results" / "results.json").read_text())
    tests = {test["name"]: test for test in results["tests"]}
    forward = next(test for name, test in tests.items() if "forward" in name.lower())
    assert forward["score"] == 0 and "The grader itself failed" in forward["output"]
    assert "The grader itself failed" in results["output"]
    assert results["score"] == sum(test["score"] for test in results["tests"]) == 0


def test_a_submission_holding_the_graders_own_journal_is_graded_all_the_same(
    course_copy: Path, tmp_path: Path
) -> None:
    root = _unpacked_bundle(course_copy, tmp_path)
    alone = tmp_path / "alone"  # the same file without the extra folder, graded here
    alone.mkdir()
    (alone / "linear.py").write_text(_coin_tosser(course_copy))
    expected = _graded_here(course_copy, tmp_path, alone, "frank@example.edu")
    # In a class folder, a student folder holding .autograder/journal.jsonl is an earlier
    # run's output folder, not a student: the class of one would have no student at all.
    shutil.copytree(alone, root / "submission", dirs_exist_ok=True)
    (root / "submission" / ".autograder").mkdir()
    (root / "submission" / ".autograder" / "journal.jsonl").write_text("{}\n")
    ran = _run_autograder(root, tmp_path, "frank@example.edu")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "not graded" not in ran.stdout and "exited with status" not in ran.stdout
    assert json.loads((root / "results" / "results.json").read_text()) == expected
    assert (root / "submission" / ".autograder" / "journal.jsonl").is_file()  # left as it was


def test_export_nbgrader_without_grades_says_what_it_needs(course_copy: Path) -> None:
    result = run_cli("export", "nbgrader", "linear", cwd=course_copy)
    assert result.returncode == 2
    assert "export nbgrader needs --grades DIR (the --out of 'autograder grade')" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_nbgrader_takes_the_out_folder_as_report_does(
    course_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _class_grades(out / "grades.json", course_copy, 3)
    db = tmp_path / "gradebook.db"
    result = run_cli("export", "nbgrader", "linear", "--db", db, "--grades", out, cwd=course_copy)
    assert result.returncode == 0, result.stderr
    assert f"exported 3 submissions of linear to nbgrader gradebook {db}" in result.stdout
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT count(*) FROM student").fetchone() == (3,)


def test_an_option_of_the_other_export_is_refused_not_ignored(course_copy: Path) -> None:
    result = run_cli("export", "gradescope", "linear", "--db", "x.db", cwd=course_copy)
    assert result.returncode == 2
    assert "--db is for 'export nbgrader', not 'export gradescope'" in result.stderr
    result = run_cli(
        "export", "nbgrader", "linear", "--grades", "g.json", "--out", "x.zip", cwd=course_copy
    )
    assert result.returncode == 2
    assert "--out is for 'export gradescope', not 'export nbgrader'" in result.stderr
    assert not list(course_copy.glob("*.zip")) and not (course_copy / "gradebook.db").exists()


def _class_grades(path: Path, course: Path, students: int) -> Path:
    rubric = load_rubric(course / "solutions" / "linear" / "rubric.yml")
    items = {
        item.id: {"score": item.points, "max_score": item.points, "feedback": ""}
        for item in rubric.items
    }
    record = {"score": rubric.max_score, "max_score": rubric.max_score, "status": "graded"}
    document = {
        "assignment": "linear",
        "max_score": rubric.max_score,
        "students": {f"s{n:03d}": {**record, "items": items} for n in range(students)},
    }
    path.write_text(json.dumps(document))
    return path


def _limit_file_size(size: int) -> Callable[[], None]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_gradebook_that_cannot_grow_is_exit_4_not_a_traceback(
    course_copy: Path, tmp_path: Path
) -> None:
    # New students need new rows; nbgrader re-raises the database's write error as its own
    # InvalidEntry (and logs a traceback first). As a full disk would, a file size limit
    # stops the gradebook from growing.
    db = tmp_path / "gradebook.db"
    few = _class_grades(tmp_path / "few.json", course_copy, 2)
    many = _class_grades(tmp_path / "many.json", course_copy, 150)
    export = ["export", "nbgrader", "linear", "--db", str(db), "--grades"]
    assert run_cli(*export, few, cwd=course_copy).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "autograder", *export, str(many)],
        cwd=course_copy,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size(db.stat().st_size + 4096),
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: cannot write the nbgrader gradebook {db} (" in result.stderr
    assert "export again" in result.stderr
    assert run_cli(*export, many, cwd=course_copy).returncode == 0  # then it can: all there
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT count(*) FROM student").fetchone() == (150,)


def test_export_into_a_notebook_with_other_graded_cells_is_exit_2(
    course_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook

    # nbgrader runs its `alembic` from PATH (the export sets that up for itself, not for us)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:  # an nbgrader notebook named as our module
        gradebook.update_or_create_assignment("linear")
        gradebook.update_or_create_notebook("linear", "linear")
        gradebook.update_or_create_grade_cell(
            "bonus", "linear", "linear", max_score=10, cell_type="code"
        )
    grades = _class_grades(tmp_path / "grades.json", course_copy, 2)
    result = run_cli(
        "export", "nbgrader", "linear", "--db", db, "--grades", grades, cwd=course_copy
    )
    assert result.returncode == 2, result.stderr
    assert "the notebook 'linear' of assignment 'linear' already has graded cells" in result.stderr
    assert ": bonus (10 points" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bundle_that_cannot_be_written_is_named_not_a_traceback(
    course_copy: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    target = tmp_path / "a-file" / "linear.zip"
    result = run_cli("export", "gradescope", "linear", "--out", target, cwd=course_copy)
    assert result.returncode == 4, result.stderr
    assert f"error: cannot write the Gradescope autograder {target} (Not a directory" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_bundle_killed_while_written_leaves_no_temporary_after_the_next_export(
    course_copy: Path, tmp_path: Path
) -> None:
    """SIGKILL while the zip is written leaves ``.linear.zip.<pid>.tmp`` beside it; the next
    export removes it (and leaves any other file alone)."""
    target = tmp_path / "linear.zip"
    probe = subprocess.Popen(["true"])
    probe.wait()  # a pid whose process has exited: the killed export's
    abandoned = tmp_path / f".linear.zip.{probe.pid}.tmp"
    abandoned.write_bytes(b"PK half a zip")
    other = tmp_path / f".notes.txt.{probe.pid}.tmp"
    other.write_text("someone else's")
    result = run_cli("export", "gradescope", "linear", "--out", target, cwd=course_copy)
    assert result.returncode == 0, result.stderr
    assert zipfile.is_zipfile(target)
    assert not abandoned.exists()
    assert other.read_text() == "someone else's"


def test_release_over_a_file_is_refused_with_a_message(course_copy: Path) -> None:
    shutil.rmtree(course_copy / "assignments" / "linear")
    (course_copy / "assignments" / "linear").write_text("not a folder\n")
    result = run_cli("release", "linear", cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert "assignments/linear is not a folder: move it out of the way" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bundle_is_never_written_over_something_that_is_not_a_file(
    course_copy: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.zip"  # like /dev/null or /dev/full: renaming onto it replaces it
    os.mkfifo(fifo)
    result = run_cli("export", "gradescope", "linear", "--out", fifo, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"--out {fifo} exists and is not a regular file" in result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_bundle_is_never_written_into_the_release_or_the_solutions(course_copy: Path) -> None:
    # It holds the reference, the hidden tests and the secret: in assignments/<a>/ it would go
    # out with the release (verify's leak check does not look inside a zip).
    release = course_copy / "assignments" / "linear"
    result = run_cli("export", "gradescope", "linear", cwd=release)  # the default ./<a>-...zip
    assert result.returncode == 2, result.stderr
    assert "the default --out, " in result.stderr
    assert "is inside the course's assignments/ folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (release / "linear-gradescope.zip").exists()
    target = course_copy / "solutions" / "linear" / "bundle.zip"
    result = run_cli("export", "gradescope", "linear", "--out", target, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"--out {target} is inside the course's solutions/ folder" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("users", "student"),
    [
        ([{"email": "frank@example.edu", "id": 1}], "frank@example.edu"),
        ([{"email": "zoé@exämple.edu", "id": 1}], "zoé@exämple.edu"),  # as a folder would be
        ([{"email": "o'brien@x.edu"}], "o_brien@x.edu"),
        ([{"email": "b@x.edu"}, {"email": None, "id": 5}], "5+b@x.edu"),  # a group, sorted
        ([{"email": None, "id": None}], "submission"),  # never the student "None"
        ([], "submission"),
        # 200 bytes, not characters: 120 two-byte letters were cut to 240 bytes, which grade
        # shortens (with a hash), so the script looked for a results.json that was not there.
        ([{"email": "é" * 120 + "@x.org"}], "é" * 100),
    ],
)
def test_the_bundle_names_a_student_by_their_gradescope_email(
    tmp_path: Path, users: list[dict[str, object]], student: str
) -> None:
    from autograder.gradescope import RUN_AUTOGRADER

    script = RUN_AUTOGRADER.format(
        assignment="linear", secret_env="AUTOGRADER_SECRET", fallback="{}"
    )
    code = script.split("-c '", 1)[1].split("' \"$ROOT", 1)[0]  # run_autograder's own Python
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"id": 1, "users": users}))
    named = subprocess.run(
        [sys.executable, "-c", code, str(metadata)], capture_output=True, text=True, timeout=60
    )
    assert named.stdout.strip() == student


def test_a_bundle_of_a_course_that_cannot_grade_is_refused(course_copy: Path) -> None:
    shutil.rmtree(course_copy / "solutions" / "linear" / "tests")
    result = run_cli("export", "gradescope", "linear", cwd=course_copy)
    assert result.returncode == 2
    assert "the hidden tests folder does not exist" in result.stderr
    assert not (course_copy / "linear-gradescope.zip").exists()


def test_setup_sh_leaves_the_course_and_the_results_to_root() -> None:
    from autograder.gradescope import SETUP_SH

    # setup.sh installs packages (apt-get): it is not run here. Its last lines restrict the
    # same folders run_autograder restricts before each run (tested above, by running it).
    lines = SETUP_SH.strip().splitlines()
    assert lines[-2:] == [
        "mkdir -p /autograder/results",
        "chmod -R go= /autograder/source /autograder/results",
    ]


def test_a_submission_with_two_copies_in_folders_is_told_to_hand_in_one(
    course_copy: Path, tmp_path: Path
) -> None:
    """A class of one whose folder holds two folders with the module is refused locally as a
    class given one folder too high; on Gradescope it is that student's ambiguous submission."""
    root = _unpacked_bundle(course_copy, tmp_path)
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    for copy in ("v1", "v2"):
        (root / "submission" / copy).mkdir()
        (root / "submission" / copy / "linear.py").write_text(reference)
    ran = _run_autograder(root, tmp_path, "frank@example.edu")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "not graded" not in ran.stdout and "exited with status" not in ran.stdout
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0
    assert "(v1/linear.py, v2/linear.py): hand in exactly one of them" in results["output"]
