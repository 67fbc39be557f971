"""A Gradescope autograder bundle: Gradescope's fleet runs this same grader per submission.

``autograder export gradescope linear --out linear-gradescope.zip`` writes the zip Gradescope
asks for (``setup.sh`` and ``run_autograder`` at its root; see Gradescope's autograder
specification). Inside the container:

* ``setup.sh`` installs Python, libseccomp and this package (bundled as source);
* ``run_autograder`` treats ``/autograder/submission`` (less a top-level ``.autograder``
  folder, which would make it look like the grader's own output folder) as a class of one
  student (in ``<student>/<assignment>/``, so that two folders with the module in it are that
  student's ambiguous submission, not a class given one folder too high), named
  after the e-mail in ``/autograder/submission_metadata.json`` (so each student has their own
  hidden inputs, as in a local run; ``submission`` if there is none), grades it with
  ``autograder grade`` (same sandbox, same hidden tests, same rubric), and copies that
  student's ``results.json`` to ``/autograder/results/``, whatever ``grade``'s exit status.
  When ``grade`` wrote none (it failed), or any earlier step failed, it writes one of its own
  instead (``FALLBACK_RESULTS``: a score of 0 and a note asking the student to contact the
  instructor) and prints what went wrong, ``grade``'s own messages included, on its output,
  which Gradescope shows to instructors only. It exits 0 once a ``results.json`` is written
  (Gradescope reads only that file; the exit status has no documented meaning), 1 if none
  could be.

The bundle holds the course secret so hidden inputs are identical to a local regrade, and the
reference solution and hidden tests. Where the container allows namespaces, the sandbox hides
all of ``/autograder`` from student code (it hides every top-level folder but the system's).
Where it does not (isolation "none", docs/isolation.md), student code runs under an
unprivileged uid and can read whatever is readable by others; so ``setup.sh``, and
``run_autograder`` again before each run, make ``/autograder/source`` and
``/autograder/results`` readable by their owner (root) alone, as Gradescope's best practices
advise (``chmod go=``).
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from autograder.course import Assignment, Course

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip libseccomp2 >/dev/null
PYTHON=python3
# The grader needs Python 3.11 or later; older base images (Ubuntu 22.04) have it as python3.11.
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    PYTHON=python3.11
fi
"$PYTHON" -m venv /opt/autograder
/opt/autograder/bin/pip install --quiet /autograder/source/package
# The course (reference solution, hidden tests, secret) and the results are root's alone: where
# the sandbox has no namespaces, file modes are all that keeps student code from reading them.
mkdir -p /autograder/results
chmod -R go= /autograder/source /autograder/results
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission. It always leaves a results.json, and exits 0 once
# it has: the one 'grade' wrote for the student (whatever its exit status), or, when there is
# none, a score of 0 telling the student to contact the instructor. What went wrong is printed
# here: Gradescope shows this output to instructors, never to students.
set -uo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
AUTOGRADER="${{AUTOGRADER_BIN:-/opt/autograder/bin/autograder}}"
RESULTS="$ROOT/results/results.json"
# Each run, before any student code: the course (reference solution, hidden tests, secret) and
# the results are root's alone. Where the sandbox has no namespaces (isolation "none"), student
# code runs under an unprivileged uid, and file modes are all that keeps these from it.
mkdir -p "$ROOT/results"
chmod -R go= "$ROOT/source" "$ROOT/results" 2>/dev/null || true
could_not_grade() {{
    echo "run_autograder: this submission was not graded: $1"
    echo "run_autograder: the student gets 0 and is asked to contact you; regrade once fixed."
    ( umask 077 && cat > "$RESULTS" ) <<'JSON' || exit 1
{fallback}
JSON
    exit 0
}}
WORK="$(mktemp -d)" || could_not_grade "no working folder (mktemp -d failed)"
trap 'rm -rf "$WORK"' EXIT
# The course secret, bundled: read from the variable the grader looks at first, whatever file
# course.yml names (the grading processes never see the variable).
COURSE_SECRET="$(cat "$ROOT/source/course/.autograder/secret")" ||
    could_not_grade "cannot read the bundle's course secret"
export {secret_env}="$COURSE_SECRET"
# The student id seeds the hidden inputs: each student gets their own, as in a local run of
# 'grade' on a folder named after their e-mail (several, joined by '+', for a group).
STUDENT="$("$(dirname "$AUTOGRADER")/python" -c '
import json, re, sys
try:
    users = json.load(open(sys.argv[1]))["users"]
    names = [u.get("email") or u.get("id") for u in users]
    ident = "+".join(sorted(str(n) for n in names if n not in (None, "")))
except Exception:
    ident = ""
ident = re.sub(r"[^\\w.@+-]", "_", ident).lstrip(".")
# 200 bytes (not characters): a folder name, and grade shortens ids over 240 bytes
print(ident.encode()[:200].decode("utf-8", "ignore") or "submission")
' "$ROOT/submission_metadata.json")" || could_not_grade "cannot run $(dirname "$AUTOGRADER")/python"
# In <student>/{assignment}/, as nbgrader's layout has it: a class of one whose folder held
# two folders with the module (v1/, v2/) would be refused as a class given one folder too high;
# so it is graded as that student's submission ('hand in exactly one of them').
SUBMITTED="$WORK/class/$STUDENT/{assignment}"
mkdir -p "$SUBMITTED" && cp -r "$ROOT/submission/." "$SUBMITTED/" ||
    could_not_grade "cannot copy $ROOT/submission"
# A class's student folder that holds .autograder/journal.jsonl is taken for an earlier run's
# output folder and skipped ('no student folders'). Nothing in a dot folder is ever graded, so
# the student's own .autograder (made up or not) goes, and their file is graded as any other.
rm -rf "$SUBMITTED/.autograder" ||
    could_not_grade "cannot remove the submission's .autograder folder from the working copy"
# Its errors and warnings (stderr) go to this output, for the instructor.
"$AUTOGRADER" grade {assignment} "$WORK/class" --out "$WORK/out" --jobs 1 --quiet \\
    --course "$ROOT/source/course/course.yml" 2>&1
STATUS=$?
if [ "$STATUS" -ne 0 ]; then
    echo "run_autograder: 'autograder grade' exited with status $STATUS"
fi
GRADED="$WORK/out/gradescope/$STUDENT/results.json"
if [ ! -f "$GRADED" ]; then
    could_not_grade "'autograder grade' wrote no results.json (its messages are above)"
fi
cp "$GRADED" "$RESULTS" || could_not_grade "cannot copy the results.json 'grade' wrote"
"""

# What a student is shown when the grader could not grade their submission: no internal paths
# or messages (those are printed for the instructor).
FALLBACK_RESULTS = {
    "score": 0.0,
    "output": (
        "The autograder could not grade this submission, so this score of 0 is not a grade of "
        "your work. Please contact your instructor: they can see what went wrong."
    ),
}

_PACKAGE_FILES = ("pyproject.toml", "README.md")


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    # Fixed timestamps: the same course gives the same bundle bytes.
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, data)


def _tree(bundle: zipfile.ZipFile, source: Path, prefix: str) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            _add(bundle, f"{prefix}/{path.relative_to(source).as_posix()}", path.read_bytes())


def build_bundle(course: Course, assignment: Assignment, package_root: Path) -> bytes:
    """The Gradescope autograder zip for one assignment, as bytes."""
    assignment.reference_source(assignment.rubric())  # a bundle that cannot grade: exit 2 here
    assignment.check_hidden_tests()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        _add(bundle, "setup.sh", SETUP_SH.encode(), 0o755)
        run = RUN_AUTOGRADER.format(
            assignment=assignment.name,
            secret_env=course.secret_source.env,
            fallback=json.dumps(FALLBACK_RESULTS),
        )
        _add(bundle, "run_autograder", run.encode(), 0o755)
        course_yml = course.path.read_bytes()
        _add(bundle, "course/course.yml", course_yml)
        _add(bundle, "course/.autograder/secret", (course.secret() + "\n").encode(), 0o600)
        _tree(bundle, assignment.solution_dir, f"course/solutions/{assignment.name}")
        # Other assignments named in course.yml need their folder to exist to load the course.
        for other in course.assignments.values():
            if other.name != assignment.name:
                _add(bundle, f"course/solutions/{other.name}/.keep", b"")
        for name in _PACKAGE_FILES:
            _add(bundle, f"package/{name}", (package_root / name).read_bytes())
        _tree(bundle, package_root / "autograder", "package/autograder")
    return buffer.getvalue()
