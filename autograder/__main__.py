"""The ``autograder`` command (and ``python -m autograder``).

Only the standard library is loaded before the ``try``: a Ctrl-C that comes while the
command's own modules load (numpy, yaml: about a tenth of a second) stops it with the usual
message and exit status, not a traceback. (Until ``cli.main`` handles them, SIGTERM and
SIGHUP end the process as they end any other.)
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from autograder.cli import main as run

        return run()
    except KeyboardInterrupt as stop:  # before the command was ready to say more
        signum = getattr(stop, "signum", None)
        print("\ninterrupted" if signum is None else "\nstopped", file=sys.stderr)
        return 130 if signum is None else 128 + signum


if __name__ == "__main__":
    sys.exit(main())
