"""A hostile upload is read in a worker process: it can neither hang nor crash the server,
and no worker is left behind, whatever happens to it."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agenda.isolation import WorkerFailed, run_isolated, warm_up

MB = 1024 * 1024


# Work done in the worker: module-level so that it can be pickled by reference.


def add(a: int, b: int) -> int:
    return a + b


class SeatTaken(ValueError):
    """An exception of the caller's own kind, to see it come back as itself."""


def refuse(seat: str) -> None:
    raise SeatTaken(f"seat {seat} is taken")


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


def raise_unpicklable() -> None:
    raise Unpicklable(1, 2)


def spin_forever() -> None:
    while True:
        pass


def sleep_forever() -> None:
    time.sleep(3600)


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * MB))


def abort() -> None:
    os.abort()


def segfault() -> None:
    ctypes.string_at(0)


def exit_without_answer() -> None:
    os._exit(3)


def count_to(n: int, progress: Callable[..., None]) -> int:
    for i in range(1, n + 1):
        progress("counted", i)
    return n


def big_answer(megabytes: int) -> bytes:
    return bytes(range(256)) * (megabytes * MB // 256)


def address_space_limit() -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_AS)


def worker_pid() -> int:
    return os.getpid()


# Nothing may be left behind: no zombie, no orphan, no running worker.


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _descendants() -> set[int]:
    """Every process below this one, zombies included, from a scan of /proc."""
    children = _children_by_parent()
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _is_multiprocessing_helper(pid: int) -> bool:
    """The fork server and the resource tracker live as long as the test process does."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return (
        b"multiprocessing.forkserver" in command or b"multiprocessing.resource_tracker" in command
    )


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    before = _descendants()
    yield
    assert multiprocessing.active_children() == []
    left = {pid for pid in _descendants() - before if not _is_multiprocessing_helper(pid)}
    assert left == set()


def test_result_comes_back() -> None:
    assert run_isolated(add, 2, 3) == 5


def test_worker_is_another_process() -> None:
    assert run_isolated(worker_pid) != os.getpid()


def test_large_result_comes_back_whole() -> None:
    answer = run_isolated(big_answer, 20)
    assert answer == big_answer(20)


def test_exception_comes_back_as_itself() -> None:
    with pytest.raises(SeatTaken, match="seat 12 is taken") as raised:
        run_isolated(refuse, "12")
    assert "refuse" in str(raised.value.__cause__)  # the worker's traceback, for the log


def test_exception_that_cannot_travel_becomes_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="Unpicklable: 1/2"):
        run_isolated(raise_unpicklable)


def test_endless_loop_is_stopped_at_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(WorkerFailed) as failed:
        run_isolated(spin_forever, timeout_s=0.5)
    assert failed.value.reason == "timeout"
    assert time.monotonic() - started < 2.5


def test_sleeping_worker_is_stopped_at_the_time_limit() -> None:
    with pytest.raises(WorkerFailed) as failed:
        run_isolated(sleep_forever, timeout_s=0.3)
    assert failed.value.reason == "timeout"


def test_memory_limit_is_set_in_the_worker() -> None:
    assert run_isolated(address_space_limit, memory_mb=700) == (700 * MB, 700 * MB)


def test_allocating_beyond_the_memory_limit_fails_as_memory() -> None:
    with pytest.raises(WorkerFailed) as failed:
        run_isolated(allocate, 4096, memory_mb=512)
    assert failed.value.reason == "memory"


def test_allocating_within_the_memory_limit_works() -> None:
    assert run_isolated(allocate, 100, memory_mb=1024) == 100 * MB


@pytest.mark.parametrize("crash", [abort, segfault, exit_without_answer])
def test_crashing_worker_fails_as_crashed(crash: Callable[[], None]) -> None:
    with pytest.raises(WorkerFailed) as failed:
        run_isolated(crash)
    assert failed.value.reason == "crashed"


def test_progress_arrives_in_order_on_the_calling_thread() -> None:
    seen: list[tuple[str, int]] = []
    threads: set[int] = set()

    def on_progress(what: str, i: int) -> None:
        seen.append((what, i))
        threads.add(threading.get_ident())

    assert run_isolated(count_to, 50, on_progress=on_progress) == 50
    assert seen == [("counted", i) for i in range(1, 51)]
    assert threads == {threading.get_ident()}


def test_progress_without_listener_is_dropped() -> None:
    assert run_isolated(count_to, 5) == 5


def test_progress_is_not_passed_to_a_function_without_the_parameter() -> None:
    assert run_isolated(add, 1, 1, on_progress=lambda *_: None) == 2


def test_failing_listener_stops_the_worker() -> None:
    def on_progress(*_: object) -> None:
        raise KeyError("listener broke")

    with pytest.raises(KeyError, match="listener broke"):
        run_isolated(count_to, 1000, on_progress=on_progress)


def square_when_all_have_started(x: int, gathering: str, count: int) -> int:
    """Waits (in its worker) until `count` calls have started: only calls that run side by
    side ever get there."""
    Path(gathering, str(x)).touch()
    deadline = time.monotonic() + 60
    while len(os.listdir(gathering)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the other calls never started")
        time.sleep(0.01)
    return x * x


def test_calls_from_several_threads_run_side_by_side(tmp_path: Path) -> None:
    def call(x: int) -> int:
        return run_isolated(square_when_all_have_started, x, str(tmp_path), 4, timeout_s=90)

    with ThreadPoolExecutor(max_workers=4) as pool:
        squares = list(pool.map(call, range(4)))
    assert squares == [0, 1, 4, 9]


def test_timeouts_and_results_mixed_across_threads() -> None:
    def one(i: int) -> object:
        if i % 2:
            with pytest.raises(WorkerFailed) as failed:
                run_isolated(spin_forever, timeout_s=0.4)
            return failed.value.reason
        return run_isolated(add, i, i)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(one, range(6)))
    assert answers == [0, "timeout", 4, "timeout", 8, "timeout"]


def test_worker_failure_can_be_pickled() -> None:
    failure = pickle.loads(pickle.dumps(WorkerFailed("memory")))
    assert failure.reason == "memory"


def test_warm_up_starts_the_fork_server_once() -> None:
    warm_up()
    warm_up()
    assert run_isolated(add, 1, 2) == 3


def test_workers_do_not_pay_again_for_what_the_main_script_imports(tmp_path: Path) -> None:
    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(0.5)\n")
    program = tmp_path / "program.py"
    program.write_text(
        "import os, time\n"
        "import slow_import\n"
        "from agenda.isolation import run_isolated\n"
        "if __name__ == '__main__':\n"
        "    run_isolated(os.getpid)\n"
        "    started = time.monotonic()\n"
        "    for _ in range(3):\n"
        "        run_isolated(os.getpid)\n"
        "    print(time.monotonic() - started)\n"
    )
    finished = subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,  # the fork server imports from its working directory, not the script's
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert float(finished.stdout) < 0.5  # each worker would re-import slow_import otherwise
