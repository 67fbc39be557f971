"""``autograder verify``: prove that a course's tests reward correct code and catch wrong code.

For each assignment, with the same sandbox and limits students get:

1. **config**: course.yml, rubric.yml, the markers and the test-to-item binding (of the hidden
   tests, and of the public tests: ``autograder.public_tests``) are valid;
2. **reference**: the reference solution earns full marks on every item, for several secrets;
3. **stub**: the released stub earns zero, every item failing with "not implemented" (also for
   several secrets; mutants are graded under the first);
4. **mutants**: each hand-written mutant in ``solutions/<a>/mutants/`` (header line
   ``# loses: dW, shapes``) loses exactly the items it declares; every automatic mutant
   (``autograder.mutate``) loses something; every rubric item is killed by some mutant;
5. **public checks**: the reference passes every public check (``autograder check`` in a copy
   of ``assignments/<a>/`` holding the reference), so no student who is right is told otherwise;
6. **release**: ``assignments/<a>/`` is byte-for-byte what ``autograder release`` renders;
7. **leaks**: no line of a solution region, hidden test or mutant, and not the course secret,
   appears anywhere under ``assignments/`` (notebooks and their metadata included).

All submissions of one assignment are graded together in one run, so verifying a course costs
one grading run per assignment plus two small ones, not one per mutant.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from autograder.course import Assignment, Course, read_python
from autograder.errors import AutograderError, BindingError, ConfigError
from autograder.grading import grade, grouped_failures
from autograder.mutate import Mutant, generate
from autograder.release import diff_release, find_regions, prepare_release
from autograder.rubric import Rubric
from autograder.scoring import StudentGrade, TestOutcome
from autograder.scratch import scratch_folder

SEEDS = ("verify-seed-1", "verify-seed-2", "verify-seed-3")
_LOSES = re.compile(r"^#\s*loses\s*:\s*(.*)$", re.IGNORECASE)
_NEAR_LOSES = re.compile(r"^\s*#\s*loses\b(?!\s*:)", re.IGNORECASE)  # "# loses dW"
_PUBLIC_SUMMARY = re.compile(r"^(\d+)/(\d+) public checks passed")
# An item's line in the summary of 'autograder check': " ✔ Title [id, 3 pts]: 2/2 public ..."
_ITEM_PASSED = re.compile(r"\[([^\],]+), [^\]]*\]: (\d+)/(\d+) public checks passed$")
_MIN_LEAK_LINE = 12  # shorter lines ("return y", "x, W = cache") are not distinctive


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class AssignmentReport:
    name: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def config_broken(self) -> bool:
        """The course files themselves are invalid (nothing else could be checked)."""
        return any(c.name == "config" and not c.ok for c in self.checks)


@dataclass(frozen=True)
class HandMutant:
    name: str
    path: Path
    loses: frozenset[str]
    source: str
    syntax_error: str = ""  # a mutant need not compile, but if it does not, say so


def _syntax_error(text: str, path: Path) -> str:
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{path.name}:{exc.lineno}: {exc.msg}"
    except ValueError as exc:
        return f"{path.name}: {exc}"
    return ""


def read_mutants(assignment: Assignment, rubric: Rubric) -> list[HandMutant]:
    """The hand-written mutants and the items each declares it must lose."""
    folder = assignment.mutants_dir
    if not folder.is_dir():
        return []
    mutants = []
    for path in sorted(folder.glob("*.py")):
        declared: frozenset[str] | None = None
        text = read_python(path, "a mutant", parse=False)
        for number, line in enumerate(text.splitlines()[:10], 1):
            match = _LOSES.match(line.strip())
            if match:
                ids = frozenset(i.strip() for i in match.group(1).split(",") if i.strip())
                unknown = sorted(ids - set(rubric.ids))
                if unknown:
                    spaced = any(set(u.split()) <= set(rubric.ids) for u in unknown if " " in u)
                    raise ConfigError(
                        path,
                        number,
                        f"unknown rubric item(s): {', '.join(unknown)}"
                        + (" (separate item ids with commas)" if spaced else "")
                        + f"; the items: {', '.join(rubric.ids)}",
                    )
                if not ids:
                    raise ConfigError(path, number, "'# loses:' names no rubric item")
                declared = ids
                break
        if declared is None:
            near = next(
                (n for n, line in enumerate(text.splitlines()[:10], 1) if _NEAR_LOSES.match(line)),
                None,
            )
            if near is not None:
                raise ConfigError(path, near, "write the header as '# loses: <item ids>' (a colon)")
            raise ConfigError(path, 1, "mutant has no '# loses: <item ids>' header line")
        mutants.append(HandMutant(path.stem, path, declared, text, _syntax_error(text, path)))
    return mutants


def _lost(grade: StudentGrade) -> frozenset[str]:
    return frozenset(i.id for i in grade.items if i.score < i.max_score)


def verify_assignment(
    course: Course, assignment: Assignment, stream: IO[str], jobs: int | None
) -> AssignmentReport:
    report = AssignmentReport(assignment.name)
    config = CheckResult("config")
    report.checks.append(config)
    try:
        rubric = assignment.rubric()
        reference_source = assignment.reference_source(rubric)
        # Markers sound, no public file in place of a generated one, public tests bound.
        warnings: list[str] = []
        expected = prepare_release(assignment, warnings)
        assignment.check_hidden_tests()
        hand = read_mutants(assignment, rubric)
    except AutograderError as exc:
        config.problems.append(str(exc))
        return report
    reference = assignment.solution_dir / rubric.module
    auto = generate(reference_source, reference)
    stub = assignment.release_dir / rubric.module

    with scratch_folder("verify", assignment.name) as work:
        klass = work / "class"
        _put(klass / "reference", rubric.module, reference_source)
        stub_problem = f"{stub} does not exist (run: autograder release)"
        if stub.is_file():
            try:
                _put(klass / "stub", rubric.module, stub.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                stub_problem = f"{stub} is not UTF-8 text (run: autograder release)"
        for mutant in hand:
            _put(klass / f"mutant-{mutant.name}", rubric.module, mutant.source)
        for name, generated in _auto_names(auto).items():
            _put(klass / name, rubric.module, generated.source)
        runs: list[dict[str, StudentGrade]] = []
        failed = 0  # submissions the grader failed on
        tests: list[dict[str, list[TestOutcome]]] = []  # per run: each submission's tests
        for number, seed in enumerate(SEEDS):
            if number == 1:
                # Mutants are judged under the first secret; the reference and the stub, whose
                # marks must not depend on the inputs, under every one.
                for folder in klass.iterdir():
                    if folder.name not in ("reference", "stub"):
                        shutil.rmtree(folder)
            count = sum(1 for _ in klass.iterdir())
            stream.write(f"  grading {count} submissions with {seed}...\n")
            stream.flush()
            try:
                result = grade(
                    course,
                    assignment.name,
                    klass,
                    work / f"out-{seed}",
                    jobs=jobs,
                    secret=seed,
                    fresh=True,
                )
            except (ConfigError, BindingError) as exc:
                config.problems.append(str(exc))
                return report
            runs.append({g.student: g for g in result.grades})
            tests.append(_tests_by_student(work / f"out-{seed}"))
            config.problems.extend(_grouped_failures(result.internal_failures, seed))
            if result.internal_failures:
                failed = len({student for student, _ in result.internal_failures})
                break  # the next secrets would fail the same way, and judge nothing

    if config.problems:
        # A grade the grader failed on says nothing of the submission: judge none of them.
        count = failed
        report.checks.append(
            CheckResult(
                "reference, stub and mutants judged",
                problems=[
                    f"not judged: the grader failed on {count if count > 1 else 'the'} "
                    f"submission{'s' if count > 1 else ''} of {SEEDS[len(runs) - 1]} "
                    "(see config above); fix that, then verify again"
                ],
            )
        )
        runs = []

    if runs:
        report.checks += _check_grades(
            runs, tests, stub, stub_problem, expected, rubric, hand, auto
        )
    public, *on_stub = _check_public(assignment, rubric.module, reference_source)
    public.notes.extend(f"warning: {warning}" for warning in warnings)
    report.checks += [public, *on_stub]
    release = CheckResult("release in sync")
    release.problems.extend(diff_release(assignment, expected))
    report.checks.append(release)
    report.checks.append(_check_leaks(course, assignment, rubric))
    return report


def _check_grades(
    runs: list[dict[str, StudentGrade]],
    tests: list[dict[str, list[TestOutcome]]],
    stub: Path,
    stub_problem: str,
    expected: dict[str, bytes],
    rubric: Rubric,
    hand: Sequence[HandMutant],
    auto: Sequence[Mutant],
) -> list[CheckResult]:
    """What the grades of the reference, the stub and the mutants say."""
    stub_check = _check_stub(runs, tests, stub_problem)
    rendered = expected.get(rubric.module)
    graded = "stub" in runs[0]  # else its problem says why it could not be (not UTF-8, gone)
    if graded and stub_check.problems and stub.read_bytes() != rendered:
        # An edited or stale stub: its grades say nothing about the stub release makes.
        stub_check.problems = [
            f"{stub} is not the stub 'autograder release' makes (see 'release in sync'), so "
            f"what it earns says nothing about that stub ({len(stub_check.problems)} problem(s) "
            "graded as it is)"
        ]
    return [
        _check_reference(runs, tests),
        stub_check,
        _check_mutants(runs, tests, rubric, hand, auto),
    ]


def _grouped_failures(failures: Sequence[tuple[str, str]], seed: str) -> list[str]:
    """One line per problem: a broken test fails every submission."""
    return [
        f"{seed}: grader failed on {len(students)} submission(s) ({', '.join(students[:3])}"
        f"{', ...' if len(students) > 3 else ''}): {problem}"
        for problem, students in grouped_failures(failures)
    ]


def _auto_names(auto: Sequence[Mutant]) -> dict[str, Mutant]:
    """Each automatic mutant by the name of its submission folder, which says what it is."""
    return {
        f"auto-{index:03d}-{mutant.operator}-line{mutant.line}": mutant
        for index, mutant in enumerate(auto)
    }


def _put(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True)
    (folder / name).write_text(text, encoding="utf-8")


def _tests_by_student(out: Path) -> dict[str, list[TestOutcome]]:
    """Each submission's test outcomes, from the run's journal (a grade keeps only items'):
    a failure of verify names the tests behind it."""
    outcomes: dict[str, list[TestOutcome]] = {}
    journal = out / ".autograder" / "journal.jsonl"
    for line in journal.read_text(encoding="utf-8").splitlines() if journal.is_file() else []:
        try:
            entry = json.loads(line)
            if isinstance(entry, dict) and "student" in entry:
                found = [TestOutcome.from_json(o) for o in entry.get("outcomes", [])]
                outcomes[str(entry["student"])] = found
        except (ValueError, KeyError, TypeError):
            continue  # a torn line: verify's messages just name fewer tests
    return outcomes


def _named(outcomes: Sequence[TestOutcome], item_id: str, *, passed: bool) -> str:
    """ " (failed: test_x.py::test_a[small], ...)": the tests of ``item_id`` that passed or
    failed, or "" when there are none to name."""
    names = [o.nodeid for o in outcomes if o.item_id == item_id and o.passed == passed]
    if not names:
        return ""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f" ({'passed' if passed else 'failed'}: {', '.join(names[:3])}{more})"


def _check_reference(
    runs: Sequence[dict[str, StudentGrade]], tests: Sequence[dict[str, list[TestOutcome]]]
) -> CheckResult:
    check = CheckResult("reference earns full marks")
    for seed, run, outcomes in zip(SEEDS, runs, tests, strict=True):
        grade_ = run["reference"]
        for item in grade_.items:
            if item.score < item.max_score:
                first = item.feedback.splitlines()[1:2] or [item.feedback]
                failed = _named(outcomes.get("reference", []), item.id, passed=False)
                check.problems.append(
                    f"{seed}: item '{item.id}' got {item.score:g}/{item.max_score:g}{failed}: "
                    f"{first[0]}"
                )
    if check.ok:
        check.notes.append(f"full marks with {len(runs)} different secrets")
    return check


def _check_stub(
    runs: Sequence[dict[str, StudentGrade]],
    tests: Sequence[dict[str, list[TestOutcome]]],
    missing: str,
) -> CheckResult:
    check = CheckResult("released stub earns zero")
    if "stub" not in runs[0]:
        check.problems.append(missing)
        return check
    for seed, run, outcomes in zip(SEEDS, runs, tests, strict=True):
        grade_ = run["stub"]
        for item in grade_.items:
            if item.score > 0:
                passed = _named(outcomes.get("stub", []), item.id, passed=True)
                check.problems.append(f"{seed}: stub earns {item.score:g} on '{item.id}'{passed}")
            elif "not implemented" not in item.feedback:
                check.problems.append(
                    f"{seed}: stub fails '{item.id}' without saying 'not implemented': "
                    f"{item.feedback.splitlines()[-1]}"
                )
    return check


def _check_mutants(
    runs: Sequence[dict[str, StudentGrade]],
    tests: Sequence[dict[str, list[TestOutcome]]],
    rubric: Rubric,
    hand: Sequence[HandMutant],
    auto: Sequence[Mutant],
) -> CheckResult:
    check = CheckResult("mutants are caught")
    killed: set[str] = set()
    for mutant in hand:
        lost = _lost(runs[0][f"mutant-{mutant.name}"])
        killed |= lost
        if lost != mutant.loses:
            missing = ", ".join(sorted(mutant.loses - lost)) or "-"
            outcomes = tests[0].get(f"mutant-{mutant.name}", [])
            extra = (
                ", ".join(
                    f"{item}{_named(outcomes, item, passed=False)}"
                    for item in sorted(lost - mutant.loses)
                )
                or "-"
            )
            check.problems.append(
                f"mutants/{mutant.path.name}: declared to lose {_ids(mutant.loses)}, "
                f"lost {_ids(lost)} (not lost: {missing}; lost but not declared: {extra})"
                + (
                    f"; it does not compile ({mutant.syntax_error}), so it loses everything"
                    if mutant.syntax_error
                    else ""
                )
            )
    survivors = []
    auto_names = _auto_names(auto)
    for name in sorted(auto_names):
        lost = _lost(runs[0][name])
        killed |= lost
        if not lost:
            survivors.append(name)
    for name in survivors:
        survivor = auto_names[name]
        check.problems.append(
            f"automatic mutant {name} (line {survivor.line}: {survivor.change}) earns full "
            "marks: the hidden tests miss this mistake, unless it changes nothing they could see "
            f"(a sign flipped before squaring); then end line {survivor.line} of the reference "
            f"with '# equivalent: {survivor.operator}'"
        )
    for item in rubric.ids:
        if item not in killed:
            check.problems.append(f"no mutant makes item '{item}' lose points")
    check.notes.append(
        f"{len(hand)} hand-written and {len(auto_names)} automatic mutants, "
        f"{len(auto_names) - len(survivors)} automatic killed"
    )
    return check


PUBLIC_CHECK_TIMEOUT = 600.0  # seconds; the public checks of a course take a few


def _check_public(assignment: Assignment, module: str, reference_source: str) -> list[CheckResult]:
    """``autograder check`` on the released folder with the reference in place of the stub, and
    on the released folder as it is (the stub)."""
    check = CheckResult("reference passes the public checks")
    release = assignment.release_dir
    if not (release / "rubric.yml").is_file():
        check.problems.append(f"{release} has no rubric.yml (run: autograder release)")
        return [check]
    if not any(release.rglob("test_*.py")) and not any(release.rglob("*_test.py")):
        check.notes.append("no public checks in the release")
        return [check]
    done = _run_public_checks(assignment, module, reference_source)
    if isinstance(done, str):
        check.problems.append(done)
    elif done.returncode != 0:
        shown = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        check.problems.append(
            f"'autograder check' fails on the reference (exit {done.returncode}); a student "
            "with a correct solution would be told it is wrong:"
        )
        check.problems.extend(f"  {line}" for line in shown[-15:])
    else:
        summary = [line for line in done.stdout.splitlines() if _PUBLIC_SUMMARY.match(line)]
        check.notes.append(summary[-1].split(".")[0] if summary else "every public check passed")
    return [check, _check_public_on_stub(assignment, module)]


def _check_public_on_stub(assignment: Assignment, module: str) -> CheckResult:
    """As the stub earns zero in grading, it passes no public check: one it passes (a test
    left empty, or one that checks nothing the student writes) tells a student who has not
    started that this part is done."""
    check = CheckResult("released stub fails every public check")
    stub = assignment.release_dir / module
    try:
        stub_source = stub.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        check.notes.append(f"not run: {stub} cannot be read (see 'released stub earns zero')")
        return check
    done = _run_public_checks(assignment, module, stub_source)
    if isinstance(done, str):
        check.problems.append(done)
        return check
    lines = done.stdout.splitlines()
    totals = [found for found in map(_PUBLIC_SUMMARY.match, lines) if found]
    if not totals:  # a summary this cannot read must not pass as a stub that passes nothing
        shown = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        check.problems.append(
            f"'autograder check' on the stub (exit {done.returncode}) printed no "
            "'N/M public checks passed' line:"
        )
        check.problems.extend(f"  {line}" for line in shown[-15:])
    elif int(totals[-1].group(1)) > 0:
        passed = [
            f"item '{found.group(1)}': {found.group(2)}/{found.group(3)}"
            for found in map(_ITEM_PASSED.search, lines)
            if found and int(found.group(2)) > 0
        ] or [f"{totals[-1].group(1)}/{totals[-1].group(2)}"]
        check.problems.append(
            "the stub passes public checks, so a student who has written nothing is told those "
            f"pass ({'; '.join(passed)} public checks passed)"
        )
    return check


def _run_public_checks(
    assignment: Assignment, module: str, source: str
) -> subprocess.CompletedProcess[str] | str:
    """``autograder check`` on a copy of the release with ``source`` as the module (the
    notebook left out, so it is the file checked); or why it could not finish."""
    with scratch_folder("verify", f"public-{assignment.name}") as work:
        folder = work / assignment.name
        shutil.copytree(assignment.release_dir, folder, symlinks=True)
        (folder / f"{Path(module).stem}.ipynb").unlink(missing_ok=True)
        (folder / module).write_text(source, encoding="utf-8")
        program = (
            "import sys; from pathlib import Path; from autograder.check import run_check; "
            "sys.exit(run_check(Path(sys.argv[1]), verbose=False, stream=sys.stdout))"
        )
        try:
            return subprocess.run(
                [sys.executable, "-c", program, str(folder)],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=PUBLIC_CHECK_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return f"the public checks took more than {PUBLIC_CHECK_TIMEOUT:g} s"


def _ids(ids: Iterable[str]) -> str:
    return "{" + ", ".join(sorted(ids)) + "}"


def _normalise(line: str) -> str:
    return " ".join(line.split())


def secret_lines(assignment: Assignment, rubric: Rubric) -> set[str]:
    """Distinctive lines of instructor-only material, minus what is public anyway."""
    secret, outside, readme, public = _leak_sources(assignment, rubric)
    return _distinctive(secret - outside - readme - public)


def _leak_sources(
    assignment: Assignment, rubric: Rubric
) -> tuple[set[str], set[str], set[str], set[str]]:
    """Normalised lines: (instructor-only, the reference outside its regions, the README,
    the public files)."""
    solution = assignment.solution_dir
    reference = solution / rubric.module
    source = assignment.reference_source(rubric).splitlines()
    inside = {
        n
        for region in find_regions("\n".join(source), reference)
        for n in range(region.begin, region.end + 1)
    }
    secret = {_normalise(line) for n, line in enumerate(source, 1) if n in inside}
    outside = {_normalise(line) for n, line in enumerate(source, 1) if n not in inside}
    private = list(assignment.hidden_tests_dir.rglob("*.py"))
    if assignment.mutants_dir.is_dir():
        private += list(assignment.mutants_dir.rglob("*.py"))
    for path in private:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            secret.update(_normalise(line) for line in text.splitlines())
    readme: set[str] = set()
    public: set[str] = set()
    for path, lines in [
        (solution / "README.md", readme),
        *((path, public) for path in assignment.public_tests_dir.rglob("*")),
    ]:
        if path.is_file():
            lines.update(_normalise(x) for x in path.read_text("utf-8", "replace").splitlines())
    return secret, outside, readme, public


def _distinctive(lines: set[str]) -> set[str]:
    return {line for line in lines if len(line) >= _MIN_LEAK_LINE and not line.startswith("#")}


def _check_leaks(course: Course, assignment: Assignment, rubric: Rubric) -> CheckResult:
    check = CheckResult(f"nothing leaks into assignments/{assignment.name}/")
    secret, outside, readme, public = _leak_sources(assignment, rubric)
    lines = _distinctive(secret - outside - readme - public)
    # What the stub and the notebook hold comes from the reference outside its regions (and
    # the README, for the notebook) only: a line a public test happens to share is no excuse
    # there.
    strict = {
        rubric.module: _distinctive(secret - outside),
        f"{rubric.module_stem}.ipynb": _distinctive(secret - outside - readme),
    }
    course_secret = course.secret(create=False) if _has_secret(course) else None
    released = assignment.release_dir
    for path in sorted(released.rglob("*")) if released.is_dir() else []:
        # Dot files (.ipynb_checkpoints) are no part of the release but can be committed with
        # it, and a checkpoint may hold a filled-in solution: scanned too. __pycache__ is
        # git-ignored.
        if not path.is_file() or "__pycache__" in path.relative_to(released).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if course_secret and course_secret in text:
            check.problems.append(f"{path}: contains the course secret")
        leaking = strict.get(str(path.relative_to(released)), lines)
        # Notebooks store code as JSON strings: check their decoded lines too.
        candidates = text.splitlines()
        candidates += text.replace("\\n", "\n").replace('\\"', '"').splitlines()
        for number, line in enumerate(candidates, 1):
            cleaned = _normalise(line.strip().strip('",'))
            if cleaned in leaking:
                where = number if number <= len(text.splitlines()) else None
                loc = f"{path}:{where}" if where else str(path)
                check.problems.append(f"{loc}: leaks instructor-only line '{cleaned[:60]}'")
                break
    return check


def _has_secret(course: Course) -> bool:
    try:
        course.secret(create=False)
    except AutograderError:
        return False
    return True


def verify(
    course: Course, names: Sequence[str], stream: IO[str], jobs: int | None = None
) -> list[AssignmentReport]:
    """Verify the named assignments (all when empty); print a report as it goes."""
    reports = []
    for name in names or list(course.assignments):
        assignment = course.assignment(name)
        stream.write(f"verify {name}\n")
        report = verify_assignment(course, assignment, stream, jobs)
        for check in report.checks:
            mark = "ok  " if check.ok else "FAIL"
            stream.write(f"  [{mark}] {check.name}\n")
            for note in check.notes:
                stream.write(f"         {note}\n")
            for problem in check.problems:
                # A problem of several lines (every binding problem at once) stays in its bullet.
                stream.write(f"         - {problem}\n".replace("\n  ", "\n           "))
        reports.append(report)
    failed = [r.name for r in reports if not r.ok]
    if failed:
        stream.write(f"\nverify FAILED for: {', '.join(failed)}\n")
    else:
        stream.write(f"\nverify passed: {len(reports)} assignment(s) sound\n")
    return reports
