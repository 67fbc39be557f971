"""What each hostile submission may earn, and the class it is graded in.

Every file in ``submissions/`` is a student's ``linear.py``. A hostile submission earns points
only if its attack works: when the attack fails it returns the same wrong answers as
``control_wrong.py`` (wrong values, wrong shapes, float32, inputs scribbled on), which score 0
on every item; when the attack succeeds it answers right (or uses what it stole). So the
normal expectation is "0 on every item"; the exceptions say why.

``EXPECTED`` is the contract test_hostile.py enforces and README.md tabulates. Three runs:
``MAIN_ORDER`` grades almost everything with the course's real limits (student ids sort in
this order, so honest neighbours are graded right after the nastiest submissions);
``TIGHT_ORDER`` grades the endless submissions with ``TIGHT_LIMITS`` in a copy of the course
(they would otherwise burn minutes of budget); ``ORDERING_CLASS`` is the planter/victim pair
graded alone with ``--jobs 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ITEMS: dict[str, float] = {
    "forward": 4.0,
    "dx": 4.0,
    "dW": 4.0,
    "db": 3.0,
    "shapes": 3.0,
    "purity": 2.0,
}
MAX_SCORE = sum(ITEMS.values())
ALL_ITEMS = frozenset(ITEMS)
VALUE_ITEMS = frozenset({"forward", "dx", "dW", "db"})
GRADED = frozenset({"graded"})
LOAD_ERROR = frozenset({"error"})
EITHER = frozenset({"graded", "error"})


@dataclass(frozen=True)
class Expectation:
    """The most a hostile submission may earn, and how its run must end.

    ``zero`` items must score exactly 0; the total must not exceed ``max_score``; the status
    must be one of ``statuses``; with ``probe`` the feedback of a graded run must show the
    submission's ``AGPROBE <name>: ran`` line, proving the attack code actually executed
    (an attack that never ran proves nothing).
    """

    attack: str
    stopped_by: str
    max_score: float = 0.0
    zero: frozenset[str] = field(default=ALL_ITEMS)
    statuses: frozenset[str] = GRADED
    probe: bool = True


EXPECTED: dict[str, Expectation] = {
    # -- the grader's comparison -------------------------------------------------------------
    "patch_numpy": Expectation(
        "monkeypatch np.allclose/isclose/array_equal/np.testing/ndarray.__eq__, answer wrong",
        "comparisons run in the grader's process, not the worker's",
        statuses=EITHER,
    ),
    "patch_builtins": Expectation(
        "rewrite builtins, wrap __import__, plant fake pytest/autograder.checks modules",
        "the worker only returns values; the checks run elsewhere",
        statuses=EITHER,
    ),
    "patch_worker_modules": Expectation(
        "rewrite the worker harness (codec.pack, _Session.error) to add verdict fields",
        "no verdict crosses the boundary: unknown fields are ignored, values are checked",
        statuses=EITHER,
    ),
    "ndarray_subclass": Expectation(
        "ndarray subclass lying via shape/dtype/__eq__/__array_function__/__array_ufunc__",
        "only the raw numeric buffer crosses, as a base-class .npy",
    ),
    "lying_objects": Expectation(
        "non-array pretending to be ndarray (__class__, shape, __eq__, __array__, tobytes)",
        "the encoder uses the data, not the claims; other objects stay behind as handles",
    ),
    "object_dtype": Expectation(
        "object/structured/str arrays, self-referential containers, 10**6-deep lists",
        "non-numeric values stay in the worker as opaque handles; depth limit",
    ),
    "weird_plain_data": Expectation(
        "legal but odd plain data (huge ints, complex, >f8, float128, 40-d, verdict dicts)",
        "every check must fail such values as the student's, never crash",
    ),
    "nan_outputs": Expectation(
        "all-NaN outputs of the right shape (NaN > tol is False)",
        "explicit isfinite checks and `not error <= limit`",
        max_score=ITEMS["shapes"],
        zero=VALUE_ITEMS | {"purity"},
    ),
    "inf_outputs": Expectation(
        "+-inf and +-1e308 outputs of the right shape (inf - inf = NaN)",
        "explicit isfinite checks and `not error <= limit`",
        max_score=ITEMS["shapes"],
        zero=VALUE_ITEMS | {"purity"},
    ),
    # A documented limit, not a hole in the grade: "inputs untouched" is read from the worker's
    # echo of its own copies, and a student who rewrites the worker's encoder can hide an
    # in-place change that has no observable effect. It still computes every answer itself
    # (the grader checks those), so all it can keep is the 2-point purity item; every effect a
    # mutation could have (wrong results, stale caches, interleaving) is judged by the grader.
    "purity_cheat": Expectation(
        "modify the inputs, then forge the worker's echo of them (wrap codec.encode)",
        "known limit: an unobservable in-place change behind a forged echo keeps purity",
        max_score=MAX_SCORE,
        zero=frozenset(),
    ),
    # -- the channel -------------------------------------------------------------------------
    "fake_json_output": Expectation(
        "print fake result lines, results.json, 'score: 20/20', escapes, bad UTF-8",
        "printed output is captured (capped) for feedback only, never parsed",
    ),
    "fake_frames_fds": Expectation(
        "write forged frames (4 framings, guessed seqs, 4 GiB, 10**12-element .npy) to fds 0-10",
        "length- and sequence-checked frames; unsolicited data kills the worker",
    ),
    "forged_npy_encoder": Expectation(
        "worker encoder emits lying .npy headers: huge shape, short data, |O pickle, exprs",
        "strict header pattern and size check before allocation; never unpickled",
    ),
    "invalid_npy_descr": Expectation(
        ".npy descr like '<f0'/'<i16' that np.dtype cannot parse (TypeError, not ValueError)",
        "every malformed payload must become the student's error, never an internal one",
    ),
    "pickle_reduce": Expectation(
        "object arrays / copyreg reducers whose __reduce__ creates /tmp/ag_pwned_pickle_*",
        "no pickle anywhere: object dtypes stay as handles, decoder refuses them",
    ),
    "echo_malformed": Expectation(
        "argument echo of the wrong form (None, (), 1-tuple, str) to crash purity tests",
        "the grader must validate the echo and blame the student",
    ),
    "json_bomb": Expectation(
        "60 MiB reply of 6.5M tiny containers: ~40x memory amplification in the grader",
        "the grader's memory per reply must stay bounded (test bounds peak RSS)",
    ),
    "notebook_bomb": Expectation(
        "a 64 MiB linear.ipynb of 22M empty lists: ~1.7 GB once json.loads parses it",
        "values are counted before a notebook is parsed; too many is the student's error",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "payload_reuse": Expectation(
        "a 5 MiB reply naming one 1 MiB payload 4,000 times: 4 GiB if each tag is decoded anew",
        "a payload named twice is a forged reply; the test bounds peak RSS",
    ),
    "forged_setup_error": Expectation(
        "answer the load request with a forged 'setup_error' reply, then exit",
        "a reply sent after student code started is the student's; the run must exit 0",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "markdown_injection": Expectation(
        "Markdown (fake score line, fake item headings) in exception messages and type names",
        "student text must not forge structure in the feedback page",
    ),
    # -- exits ------------------------------------------------------------------------------
    "exit_import_os": Expectation(
        "os._exit(0) at import",
        "no READY reply means the module did not load",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "exit_import_sys": Expectation(
        "sys.exit(0) at import plus an atexit hook printing a fake verdict",
        "BaseException at load is a load error; output is never parsed",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "exit_in_call": Expectation(
        "os._exit(0) / sys.exit(0) / KeyboardInterrupt in the middle of calls",
        "a call succeeds only with a well-formed reply carrying a right value",
    ),
    # -- secrets, reference, other students --------------------------------------------------
    "steal_reference_files": Expectation(
        "find and exec the reference: relative paths, course root, /proc/*/cwd, fs walk",
        "course root, /root, /home hidden under empty tmpfs; /proc hidepid",
    ),
    "steal_hidden_tests": Expectation(
        "read solutions/*/tests and rubric.yml (paths, /proc/*/cwd, walk) and print them",
        "course root hidden; /proc shows only the worker's own processes",
    ),
    "steal_secret": Expectation(
        "secret from env, argv, /proc/*/environ|cmdline, .autograder/secret anywhere",
        "env cleared; runner exec'd clean; course root and homes hidden; hidepid",
    ),
    "proc_other_processes": Expectation(
        "read /proc/<pid>/mem|environ|fd/*|cwd|root of the parent, runner and grader",
        "hidepid=invisible, own uid, ptrace/process_vm_readv denied",
    ),
    "inherited_fds": Expectation(
        "read/climb out of any fd 0-1023 inherited from the grader",
        "runner exec'd with close_fds; worker closes all but 0-3",
    ),
    "heap_scan": Expectation(
        "ctypes scan of its own memory for secret, reference, tests, neighbour sources",
        "the fork-server is exec'd fresh and never holds any of them",
    ),
    "caller_frames": Expectation(
        "sys._getframe / inspect.stack / gc for expected arrays or a reference module",
        "expected values exist only in the grader's process",
    ),
    "gc_and_modules": Expectation(
        "sys.modules['__main__'], every module, gc objects for a reference or grader state",
        "the worker's image has numpy, stdlib and the sandbox's worker side only",
    ),
    "steal_neighbours": Expectation(
        "read and exec other students' linear.py from the class folder, /tmp, /proc",
        "class folder hidden; sources are sent, never read, by the worker",
    ),
    "memorized_seeds": Expectation(
        "answers memorized for default_rng/RandomState seeds 0-255 (the public tests')",
        "hidden inputs are seeded by (course secret, student, test)",
    ),
    # -- the filesystem ----------------------------------------------------------------------
    "write_grades_everywhere": Expectation(
        "forge grades.json/results.json/journal in the --out folder and everywhere else",
        "out and class folders hidden; read-only root; private /tmp",
    ),
    "modify_grader_files": Expectation(
        "create files in autograder/, site-packages, stdlib, __pycache__, hidden tests",
        "read-only filesystem view, own uid",
    ),
    "chdir_syspath": Expectation(
        "chdir away, poison sys.path/sys.modules (json, struct, io...), env, umask, stdio",
        "the harness already holds its modules; only values cross",
        statuses=EITHER,
    ),
    "planter": Expectation(
        "plant ag_plant_* files in /tmp, /var/tmp, /dev/shm, cwd, $HOME, sys.path",
        "one private tmpfs per worker for the scratch dirs; the rest read-only",
    ),
    "victim_reader": Expectation(
        "find what the planter (graded earlier) left, and import it",
        "nothing of an earlier worker is visible",
    ),
    # -- resources and processes -------------------------------------------------------------
    "loop_import_busy": Expectation(
        "busy loop at import",
        "import_timeout (its own time) and SIGKILL",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "loop_import_sleep": Expectation(
        "ignore/block all catchable signals, then sleep forever at import",
        "wall-clock deadline enforced with SIGKILL",
        statuses=LOAD_ERROR,
        probe=False,
    ),
    "loop_call": Expectation(
        "every call sleeps or spins forever, SIGTERM/SIGXCPU ignored",
        "call_timeout with SIGKILL, CPU rlimit, per-submission budget",
    ),
    "memory_bomb": Expectation(
        "allocate until MemoryError (threads too), hold it; numpy 80 GB array",
        "RLIMIT_AS per worker",
    ),
    "fork_bomb": Expectation(
        "os.fork loop, Popen, os.system, posix_spawn, multiprocessing, pty.fork",
        "seccomp denies fork/exec; NPROC; kill-by-uid sweep",
    ),
    "daemon_double_fork": Expectation(
        "double-forked setsid daemon that rewrites grades.json later",
        "fork denied; subreaper runner sweeps the slot uid; out folder hidden",
    ),
    "thread_spam": Expectation(
        "2000 sleeping non-daemon threads, spinning threads, fake-verdict printer thread",
        "NPROC/CPU/AS limits; threads die with the worker; output never parsed",
    ),
    "kill_others": Expectation(
        "kill(-1, SIGSTOP/SIGKILL), kill parent/group/pid 1/every /proc pid",
        "seccomp: signals to itself only; own uid; hidepid",
    ),
    "escalate": Expectation(
        "setuid(0), raise hard rlimits, unshare(USER|NS), umount2 covers, chroot, ptrace",
        "uid dropped, no caps, NO_NEW_PRIVS, seccomp",
    ),
    "network": Expectation(
        "TCP/UDP to the test's 127.0.0.1 server, abstract unix socket, listen, io_uring",
        "seccomp denies socket/socketpair/io_uring; empty network namespace",
    ),
    "output_flood": Expectation(
        "gigabytes on stdout/stderr, one 64 MiB line, invalid UTF-8, BrokenPipe ignored",
        "output_kb kept, the rest dropped; the pipe closed after 64 MiB",
    ),
    "output_flood_honest": Expectation(
        "256 MiB of output at import, then right answers",
        "the cap must not cost an honest-but-noisy submission anything",
        max_score=MAX_SCORE,
        zero=frozenset(),
        probe=False,
    ),
    "deep_recursion": Expectation(
        "setrecursionlimit(10**8); repr of a 10**6-deep list; endless recursion",
        "a crash kills only the worker; encoder depth limit; rlimits",
    ),
    "segfault": Expectation(
        "SIGSEGV, SIGABRT, SIGKILL/SIGBUS/SIGFPE at itself mid-call",
        "a dead worker has no reply; the next test gets a fresh worker",
    ),
    "segfault_import": Expectation(
        "SIGSEGV at import",
        "no READY reply means the module did not load",
        statuses=LOAD_ERROR,
        probe=False,
    ),
}

# Honest neighbours: each must get exactly the grade it gets when graded alone.
HONEST = ("honest", "honest_partial")
# The control must score exactly 0 everywhere: it validates the hostile files' fallback.
CONTROL = "control_wrong"

# The main run, in grading order. Honest copies follow the submissions most likely to disturb
# a neighbour (signals, forks, memory, CPU, output, /tmp), so with --jobs 2 they run beside them.
MAIN_ORDER: tuple[str, ...] = (
    "kill_others",
    "honest",
    "fork_bomb",
    "daemon_double_fork",
    "honest_partial",
    "memory_bomb",
    "thread_spam",
    "honest",
    "planter",
    "victim_reader",
    "output_flood",
    "honest_partial",
    "json_bomb",
    "notebook_bomb",
    "payload_reuse",
    "honest",
    "control_wrong",
    "patch_numpy",
    "patch_builtins",
    "patch_worker_modules",
    "ndarray_subclass",
    "lying_objects",
    "object_dtype",
    "weird_plain_data",
    "nan_outputs",
    "inf_outputs",
    "purity_cheat",
    "fake_json_output",
    "fake_frames_fds",
    "forged_npy_encoder",
    "invalid_npy_descr",
    "pickle_reduce",
    "echo_malformed",
    "forged_setup_error",
    "honest_partial",
    "markdown_injection",
    "exit_import_os",
    "exit_import_sys",
    "exit_in_call",
    "steal_reference_files",
    "steal_hidden_tests",
    "steal_secret",
    "proc_other_processes",
    "inherited_fds",
    "heap_scan",
    "caller_frames",
    "gc_and_modules",
    "steal_neighbours",
    "memorized_seeds",
    "write_grades_everywhere",
    "modify_grader_files",
    "chdir_syspath",
    "escalate",
    "network",
    "output_flood_honest",
    "deep_recursion",
    "segfault",
    "segfault_import",
    "honest",
)

# Endless submissions, with honest neighbours, in a course copy with these limits (seconds).
TIGHT_ORDER: tuple[str, ...] = (
    "loop_import_busy",
    "honest",
    "loop_call",
    "honest_partial",
    "loop_import_sleep",
    "honest",
)
TIGHT_LIMITS = {"call_timeout": 1.0, "import_timeout": 2.0, "cpu_seconds": 5, "budget_seconds": 6.0}

# Graded alone, one at a time, planter first.
ORDERING_CLASS: tuple[str, ...] = ("planter", "victim_reader")


def student_ids(order: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    """Student id -> submission name; ids sort in ``order`` (``03_fork_bomb``)."""
    return {f"{prefix}{index:02d}_{name}": name for index, name in enumerate(order) if name}
