"""Work spread over worker processes: each item under a time limit, a crash or a stall costs only its own item,
and Ctrl-C or SIGTERM stops every worker at once.

``concurrent.futures`` could not do the last two: its pool cannot stop one task (only the whole pool, by
waiting for it to drain: 98 s of a 104 s run after Ctrl-C), says nothing of which task a dead worker had,
and leaves its workers waiting forever when the parent dies. Here each worker is a process with its own
pipe; the parent sends it a chunk of items at a time and it answers each item as it finishes, so the
parent always knows which item a worker is on and since when. A worker past the time limit is killed,
its item reported, the rest of its chunk handed to a fresh worker.
"""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

CRASHED = "the worker processing this file crashed"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that it unwinds as Ctrl-C does (workers stopped, temporary
    files removed) instead of ending the process on the spot."""

    signum = signal.SIGTERM


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside: SIGTERM raises ``Terminated``. Only from the main thread, and only over the default action."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def timed_out(limit: float) -> str:
    return f"took longer than the time limit ({limit:g} s) and was stopped; left alone (--time-limit sets it)"


@dataclasses.dataclass
class _Worker:
    process: Any  # multiprocessing's Process
    conn: Connection
    chunk: deque[int] = dataclasses.field(default_factory=deque)  # items sent and not answered, in order
    since: float = 0.0  # when the item at the head of ``chunk`` started


def run(
    items: Sequence[Any],
    work: Callable[[Any], Any],
    workers: int,
    chunk: int,
    time_limit: float | None,
    done: Callable[[int, Any], None],
    lost: Callable[[int, str], None],
) -> None:
    """``done(i, work(items[i]))`` for every item, computed in up to ``workers`` processes, ``chunk`` items per
    message; ``lost(i, reason)`` for an item whose worker died on it or ran past ``time_limit`` seconds."""
    queue = deque(range(len(items)))
    context = multiprocessing.get_context()
    pool: list[_Worker] = []

    def start() -> _Worker:
        mine, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, work, os.getpid()), daemon=True)
        process.start()
        theirs.close()
        worker = _Worker(process, mine)
        pool.append(worker)
        return worker

    def retire(worker: _Worker, reason: str) -> None:
        """The worker is dead or killed: its current item is lost, the rest of its chunk goes back in front."""
        pool.remove(worker)
        _stop(worker)
        if worker.chunk:
            lost(worker.chunk.popleft(), reason)
            queue.extendleft(reversed(worker.chunk))

    try:
        while queue or any(w.chunk for w in pool):
            for worker in [w for w in pool if not w.chunk]:
                if not _feed(worker, queue, items, chunk):
                    pool.remove(worker)  # died between two chunks, with nothing of ours
                    _stop(worker)
            while queue and len(pool) < workers:
                _feed(start(), queue, items, chunk)
            busy = [w for w in pool if w.chunk]
            if not busy:
                continue
            timeout = None
            if time_limit:
                timeout = max(0.0, min(w.since for w in busy) + time_limit - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            now = time.monotonic()
            for worker in busy:
                died = worker.process.sentinel in ready
                if worker.conn in ready or died:
                    try:
                        while worker.chunk and worker.conn.poll():
                            index, result = worker.conn.recv()
                            worker.chunk.popleft()
                            worker.since = now
                            done(index, result)
                    except (EOFError, OSError):
                        died = True
                if died or not worker.process.is_alive():
                    retire(worker, CRASHED)
                elif worker.chunk and time_limit and now - worker.since >= time_limit:
                    retire(worker, timed_out(time_limit))
        for worker in pool:
            with contextlib.suppress(OSError):
                worker.conn.send(None)  # no more work: exit
        for worker in pool:
            worker.process.join(5)
    finally:
        for worker in pool:
            _stop(worker)


def _feed(worker: _Worker, queue: deque[int], items: Sequence[Any], chunk: int) -> bool:
    """Send the worker its next chunk; False (the chunk back in the queue) when it is gone."""
    taken = [queue.popleft() for _ in range(min(chunk, len(queue)))]
    if not taken:
        return True
    try:
        worker.conn.send([(index, items[index]) for index in taken])
    except OSError:
        queue.extendleft(reversed(taken))
        return False
    worker.chunk.extend(taken)
    worker.since = time.monotonic()
    return True


def _stop(worker: _Worker) -> None:
    """Killed, not asked: a worker holds nothing that needs cleaning up (its writes to the cache are atomic)."""
    if worker.process.is_alive():
        with contextlib.suppress(OSError):
            worker.process.kill()
    worker.process.join()
    worker.conn.close()


def _serve(conn: Connection, work: Callable[[Any], Any], parent: int) -> None:
    """A worker: chunks in, one answer per item out, until told to stop or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        for index, item in message:
            conn.send((index, work(item)))


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this worker when the parent dies, even by SIGKILL, so that none is left behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)
