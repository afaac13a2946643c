"""Runs work on untrusted input (an uploaded file) in a worker process with a wall-time and a
memory limit, so that a hostile file can neither hang nor crash the server.

Workers are forked from multiprocessing's fork server, a clean single-threaded process
started once (lazily, or by :func:`warm_up`) with PyMuPDF and :mod:`agenda.ingest` already
imported. Forking from it is safe in a server that runs an event loop and threads, and a
call costs about 10 ms more than running the function in place; "spawn", just as safe,
costs about 170 ms, a fresh interpreter and a new PyMuPDF import every time.
"""

from __future__ import annotations

import ast
import ctypes
import inspect
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

CONTEXT = "forkserver"
PRELOAD = ["__main__", "agenda.isolation", "agenda.ingest", "pymupdf"]
"""Imported once in the fork server, so that workers start with them loaded."""

EXIT_GRACE_S = 2.0  # a worker that has answered gets this long to exit by itself
KILL_WAIT_S = 10.0  # how long to wait for a killed worker to be reaped
_EXIT_OUT_OF_MEMORY = 77  # the worker's exit code when even reporting MemoryError failed
_PR_SET_PDEATHSIG = 1

_context: BaseContext | None = None
_context_lock = threading.Lock()
# multiprocessing keeps one module-wide set of children, and Process.start() polls the
# others' exit status; starting, polling and closing must therefore not overlap.
_process_lock = threading.Lock()


class WorkerFailed(Exception):
    """The worker was killed (time or memory limit) or crashed;
    `reason` is 'timeout' | 'memory' | 'crashed'."""

    _WHY = {
        "timeout": "the worker ran out of time",
        "memory": "the worker ran out of memory",
        "crashed": "the worker crashed",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self._WHY.get(reason, reason))
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (WorkerFailed, (self.reason,))


class WorkerTraceback(Exception):
    """The traceback of an exception raised in the worker, attached as its `__cause__`."""


def run_isolated(
    func: Callable[..., Any],
    *args: Any,
    timeout_s: float = 30.0,
    memory_mb: int = 1024,
    on_progress: Callable[..., None] | None = None,
) -> Any:
    """Runs ``func(*args, progress=send)`` in a fresh worker process and returns its result.

    ``func`` must be a module-level function and ``args`` and the result picklable.
    ``progress=`` is passed only when ``func`` has a ``progress`` parameter (or ``**kwargs``);
    each ``send(*parts)`` in the worker becomes ``on_progress(*parts)`` in the caller, in
    order and on the calling thread (without ``on_progress`` the messages are dropped).
    Exceptions raised by ``func`` are re-raised here as themselves, with the worker's
    traceback as ``__cause__``; one that cannot be pickled comes back as a RuntimeError.

    The worker's address space is limited to ``memory_mb`` (RLIMIT_AS, counting everything
    the process maps, PyMuPDF included) and its run to ``timeout_s`` seconds of wall time
    from the call. Raises :class:`WorkerFailed` when it runs out of either or crashes. The
    worker is always gone when this returns or raises. Blocking and thread-safe: call it
    from a thread (``asyncio.to_thread``), several at once if need be.
    """
    deadline = time.monotonic() + timeout_s
    context = _worker_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_work,
        args=(sender, func, args, _accepts_progress(func), memory_mb, timeout_s),
        name=f"isolated-{getattr(func, '__name__', 'work')}",
        daemon=True,
    )
    answered = False
    try:
        with _process_lock:
            process.start()
        sender.close()
        result = _await_answer(process, receiver, deadline, on_progress)
        answered = True
        return result
    finally:
        sender.close()
        _dispose(process, grace_s=EXIT_GRACE_S if answered else 0.0)
        receiver.close()


def warm_up() -> None:
    """Starts the fork server now rather than at the first upload. Call it once at server
    start-up, before anything else starts the fork server (a ProcessPoolExecutor with the
    "forkserver" context shares it): only the first starter's preload list counts."""
    _worker_context()
    if CONTEXT == "forkserver":
        multiprocessing.forkserver.ensure_running()


def _worker_context() -> BaseContext:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context(CONTEXT)
            if CONTEXT == "forkserver":
                context.set_forkserver_preload(PRELOAD + _main_script_imports())
            _context = context
        return _context


def _main_script_imports() -> list[str]:
    """What the program's main script imports at its top level.

    Each worker re-runs the main script (e.g. the `phonghop` command) before it starts, and
    Python 3.11's fork server ignores "__main__" in its preload list; importing the script's
    own imports in the fork server makes that re-run cost ~1 ms instead of ~500 ms.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        return []  # run with `python -m`: workers do not re-run it
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def _accepts_progress(func: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        (p.name == "progress" and p.kind != p.POSITIONAL_ONLY) or p.kind == p.VAR_KEYWORD
        for p in parameters
    )


# In the caller


def _await_answer(
    process: BaseProcess,
    receiver: multiprocessing.connection.Connection,
    deadline: float,
    on_progress: Callable[..., None] | None,
) -> Any:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerFailed("timeout")
        ready = multiprocessing.connection.wait([receiver, process.sentinel], remaining)
        if receiver in ready:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise _failure_of(process) from None
            if kind == "progress":
                if on_progress is not None:
                    on_progress(*payload)
                continue
            return _unpack(kind, payload)
        if process.sentinel in ready:
            raise _failure_of(process)


def _unpack(kind: str, payload: Any) -> Any:
    if kind == "result":
        return payload
    if kind == "error":
        error, worker_traceback = payload
        raise error from WorkerTraceback(worker_traceback)
    raise WorkerFailed(kind)


def _failure_of(process: BaseProcess) -> WorkerFailed:
    """Why a worker ended without an answer, from the way it exited."""
    multiprocessing.connection.wait([process.sentinel], KILL_WAIT_S)
    with _process_lock:
        exitcode = process.exitcode
    if exitcode == _EXIT_OUT_OF_MEMORY or exitcode == -signal.SIGKILL:
        return WorkerFailed("memory")  # a SIGKILL we did not send comes from the OOM killer
    if exitcode == -signal.SIGXCPU:
        return WorkerFailed("timeout")
    return WorkerFailed("crashed")


def _dispose(process: BaseProcess, grace_s: float) -> None:
    """Ends the worker (kills it unless it exits within `grace_s`), reaps it, frees it."""
    with _process_lock:
        started = process.pid is not None
    if not started:
        process.close()
        return
    if not multiprocessing.connection.wait([process.sentinel], grace_s):
        with _process_lock:
            process.kill()
        multiprocessing.connection.wait([process.sentinel], KILL_WAIT_S)
    with _process_lock:
        process.join(0)
        if process.exitcode is not None:
            process.close()


# In the worker


def _work(
    sender: multiprocessing.connection.Connection,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    pass_progress: bool,
    memory_mb: int,
    timeout_s: float,
) -> None:
    _die_with_parent()
    _limit_resources(memory_mb, timeout_s)
    try:
        kwargs = {"progress": _Progress(sender)} if pass_progress else {}
        answer: tuple[str, Any] = ("result", func(*args, **kwargs))
    except MemoryError:
        answer = ("memory", None)
    except Exception as error:
        answer = ("error", (_portable(error), traceback.format_exc()))
    except BaseException:  # SystemExit, KeyboardInterrupt: nothing to hand back
        answer = ("crashed", None)
    _answer(sender, answer)


class _Progress:
    def __init__(self, sender: multiprocessing.connection.Connection) -> None:
        self._sender = sender

    def __call__(self, *parts: Any) -> None:
        self._sender.send(("progress", parts))


def _answer(sender: multiprocessing.connection.Connection, answer: tuple[str, Any]) -> None:
    try:
        sender.send(answer)
    except MemoryError:
        try:
            sender.send(("memory", None))
        except MemoryError:
            os._exit(_EXIT_OUT_OF_MEMORY)
    except Exception as error:  # the result could not be pickled
        sender.send(("error", (_portable(error), traceback.format_exc())))


def _portable(error: Exception) -> Exception:
    """The exception itself if it survives pickling, else a RuntimeError that tells it."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _limit_resources(memory_mb: int, timeout_s: float) -> None:
    memory = memory_mb * 1024 * 1024
    _lower_limit(resource.RLIMIT_AS, memory, memory)
    # Backstop should the caller vanish: the kernel stops a spinning worker by CPU time too.
    cpu_s = math.ceil(timeout_s) + 1
    _lower_limit(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)


def _lower_limit(kind: int, soft: int, hard: int) -> None:
    """Sets a limit, never above the hard limit the server itself runs under."""
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(kind, (soft, hard))


def _die_with_parent() -> None:
    """On Linux, the worker is killed when its parent (the fork server) exits."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent was gone before prctl took effect
        os._exit(1)
