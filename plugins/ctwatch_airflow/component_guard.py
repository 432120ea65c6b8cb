"""Run one Airflow component so that it, and every process it starts, ends with the launcher.

`python -m ctwatch_airflow.component_guard LAUNCHER_PID ARGV...`: the launcher starts each component
this way, in a session of its own (so a terminal's Ctrl-C reaches only the launcher). A launcher
killed with SIGKILL cannot stop anything, and the components' task processes leave their process
group (Airflow's task supervisor puts each task in a group of its own), so neither the launcher nor
a process group can be relied on to end them. The guard, a tiny process between the launcher and
the component:

- watches its parent: once `getppid()` is no longer the launcher, the launcher is gone, however it
  ended. Polling, unlike `PR_SET_PDEATHSIG`, does not depend on which launcher thread started the
  guard, and cannot miss a launcher that died before the guard was watching;
- is a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): a process whose parent dies is reparented
  to the guard rather than to init, so every process the component ever started, in whatever
  process group or session, is a descendant of the guard, found by walking /proc;
- ends them all when the launcher is gone, when it is asked to (SIGTERM or SIGINT: the launcher
  stopping) or when the component exits: SIGTERM to every descendant, SIGKILL to what is left after
  GRACE_S. It then exits with the component's status (128 + N when signal N ended it);
- reaps every child, reparented ones included, so none stays a zombie.

Only a SIGKILL of the guard itself defeats this, which the launcher sends only to a guard that
outlived its own grace. Linux only: elsewhere the launcher starts the components directly, and a
killed launcher leaves them running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

GRACE_S = 15.0
POLL_S = 0.2
PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(errno)}")


def _live_descendants() -> set[int]:
    """Every process below this one that has not exited."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
            state, ppid = stat.read_text().rpartition(")")[2].split()[:2]
        except OSError:
            continue  # exited while the folder was listed
        if state != "Z":
            children.setdefault(int(ppid), []).append(int(stat.parent.name))
    found: set[int] = set()
    pending = [os.getpid()]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _send(pids: set[int], signum: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signum)


def _reap_children() -> dict[int, int]:
    """Exit codes of every child that has exited since the last call, by PID."""
    exited: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return exited
        if pid == 0:
            return exited
        exited[pid] = os.waitstatus_to_exitcode(status)


def _end_descendants() -> dict[int, int]:
    """SIGTERM every descendant, SIGKILL those alive after GRACE_S; the exit codes reaped meanwhile."""
    reaped = _reap_children()
    _send(_live_descendants(), signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while alive := _live_descendants():
        if time.monotonic() >= deadline:
            _send(alive, signal.SIGKILL)
        time.sleep(POLL_S)
        reaped |= _reap_children()
    return reaped | _reap_children()


def guard(launcher_pid: int, argv: list[str]) -> int:
    """Run `argv` until it exits, the launcher is gone or a stop is asked; its exit status."""
    stop_asked = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop_asked.set())
    _become_subreaper()
    component = os.posix_spawn(argv[0], argv, os.environ)
    exit_code: int | None = None
    while exit_code is None and not stop_asked.is_set() and os.getppid() == launcher_pid:
        exit_code = _reap_children().get(component)
        time.sleep(POLL_S)
    reaped = _end_descendants()
    if exit_code is None:
        exit_code = reaped[component]
    return 128 - exit_code if exit_code < 0 else exit_code


if __name__ == "__main__":
    sys.exit(guard(int(sys.argv[1]), sys.argv[2:]))
