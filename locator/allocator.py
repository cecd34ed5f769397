"""glibc's allocator, told to give memory back.

A planning job allocates hundreds of megabytes of temporaries in a thread.
With glibc's defaults each thread may get its own arena (up to eight per
core), and after a large block is freed the allocator raises its mmap
threshold so that later large blocks come from those arenas, where
fragmentation keeps them: the process's RSS ratchets up job after job. A
fixed mmap threshold sends large blocks to ``mmap`` (returned to the system
when freed), fewer arenas leave less to fragment, and :func:`trim` returns the
free tops of every arena after a job.

Arrow's own pool keeps what it frees and would never hear of a trim, so the
app makes Arrow allocate through glibc as well.

Elsewhere (musl, macOS) these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any

# mallopt parameters from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

ARENAS = 2
MMAP_THRESHOLD = 1 << 20
TRIM_THRESHOLD = 8 << 20


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


_LIBC = _libc()
_tuned = threading.Event()


def tune() -> bool:
    """Set glibc's arena count and thresholds once per process; ``False`` if not glibc.

    Call it early, before request and job threads start: a thread keeps the
    arena it first allocated from.
    """
    mallopt = getattr(_LIBC, "mallopt", None)
    if mallopt is None:
        return False
    if not _tuned.is_set():
        _tuned.set()
        mallopt(_M_ARENA_MAX, ARENAS)
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        _arrow_on_glibc()
    return True


def _arrow_on_glibc() -> None:
    """Let Arrow allocate through glibc too, unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise.

    pyarrow's default pool (mimalloc or jemalloc) keeps freed pages for reuse and
    never sees :func:`trim`: measured with ``bench/memory.py``, a server's RSS
    crept up by about 10 MB with each hot reload (1.31x idle after ten) on the
    default pool, against 1.11x on the system pool.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def trim() -> None:
    """Return free memory at the top of every arena to the system (glibc ``malloc_trim``)."""
    fn = getattr(_LIBC, "malloc_trim", None)
    if fn is not None:
        fn(0)
