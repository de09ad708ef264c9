"""Worker processes: who runs a trial, whether that process still lives, and its signals.

Three jobs, all about the process a trial runs in:

- :func:`worker_identity` and :func:`process_alive`: each trial records the host,
  process id and process start time of its worker, so that another process on
  the same host can tell at once that the worker is gone (a process id alone can
  be reused by a later process).
- :data:`INTERRUPTS`: Ctrl-C (SIGINT) stops a trial's training at once, but never
  between two storage writes that belong together (a failed trial's reason and
  its state), so an interrupted trial is always stored failed with its reason.
- :func:`end_with_parent`: a worker process started by another one ends when its
  parent dies (killed included), instead of training on as an orphan.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: ``prctl`` option asking Linux to send a signal to this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (Linux), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot, Linux), or None where unknown."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def worker_identity(index: int) -> dict[str, Any]:
    """This process as the worker of a trial: ``{"host", "pid", "started", "index"}``.

    ``started`` (see :func:`process_start`) tells this process from a later one
    that reuses its id; ``index`` is the worker number that seeds its strategy.
    """
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": process_start(pid), "index": index}


def describe_worker(identity: dict[str, Any] | None) -> str:
    """``worker 1 (process 4242 on host-a)``, as a failure reason names it."""
    if not identity:
        return "its worker"
    return (
        f"worker {identity.get('index')} (process {identity.get('pid')} on {identity.get('host')})"
    )


def process_alive(identity: dict[str, Any]) -> bool | None:
    """Whether the worker process ``identity`` still runs; None when it is on another host.

    A zombie (killed, not yet reaped by its parent) is dead, and so is a live
    process that reuses the id but started at another time.
    """
    if identity.get("host") != socket.gethostname():
        return None
    pid = identity.get("pid")
    if not isinstance(pid, int):
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    fields = _proc_stat(pid)
    if fields is None:  # no /proc (not Linux): the id exists, so assume it is the worker
        return True
    if fields[0] == "Z":
        return False
    started = identity.get("started")
    return started is None or int(fields[19]) == started


def end_with_parent() -> None:
    """End this process when the process that started it dies, killed included.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl
    PR_SET_PDEATHSIG``); everywhere, a daemon thread also waits on the parent
    and ends the process when it is gone. The running trial is left as a killed
    worker leaves it: the next worker on the study fails it and queues its
    configuration again.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent process has ended
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
    if not parent.is_alive():  # it died before the watch began
        os._exit(1)


class Interrupts:
    """Ctrl-C for a worker: at once during training, never inside a storage write.

    Within :meth:`deferred` (the worker's loop), SIGINT only marks an interrupt
    as pending; it is raised as :class:`KeyboardInterrupt` on entering or inside
    :meth:`allowed` (training), or at :meth:`raise_pending`. Storage writes made
    during training go inside :meth:`held`. So writing a trial's failure reason
    and telling its state are never separated by an interrupt. Outside
    :meth:`deferred`, or off the main thread, nothing changes.
    """

    def __init__(self) -> None:
        self._installed = False
        self._open = False
        self.pending = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self._open:
            self._open = False
            raise KeyboardInterrupt
        self.pending = True

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold SIGINT as pending for the block, except inside :meth:`allowed`."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        self._installed, self._open, self.pending = True, False, False
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self._installed = self._open = False

    @contextmanager
    def allowed(self) -> Iterator[None]:
        """Let SIGINT interrupt the block at once (raising a pending one first)."""
        if not self._installed:
            yield
            return
        self.raise_pending()
        self._open = True
        try:
            self.raise_pending()  # one that came while opening
            yield
        finally:
            self._open = False

    @contextmanager
    def held(self) -> Iterator[None]:
        """Inside :meth:`allowed`: finish the block first, then raise a pending SIGINT."""
        if not self._open:
            yield
            return
        self._open = False
        try:
            yield
        finally:
            self._open = True
            self.raise_pending()

    def raise_pending(self) -> None:
        """Raise :class:`KeyboardInterrupt` if SIGINT came while it was held."""
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


#: The process's one interrupt handler (signals go to the main thread of a process).
INTERRUPTS = Interrupts()
