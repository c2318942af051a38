"""One worker thread for the parts of a metric that can run beside the rest: numpy's,
Arrow's and pandas' group kernels let go of the GIL, so two parts of a computation
over a million entries share the machine's cores. Results are the same either way
(each part is computed alone, as it would be in line)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
PREFIX = "chat-widget-beside"

_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool): none after fork
_lock = threading.Lock()


def beside(fn: Callable[..., T], *args: Any, **kw: Any) -> Future[T]:
    """``fn(*args, **kw)`` on the worker thread (in line when called from it: a part
    never waits for its own thread)."""
    global _pool
    if threading.current_thread().name.startswith(PREFIX):
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kw))
        except BaseException as exc:  # handed to whoever asks for the result
            done.set_exception(exc)
        return done
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix=PREFIX))
        pool = _pool[1]
    return pool.submit(fn, *args, **kw)
