"""Keep a long transfer's memory flat on glibc.

glibc serves big allocations with mmap and returns them to the OS on free, but after the first
such free it raises its mmap threshold to that size (up to 32 MB). From then on the multi-MB
part and chunk buffers of a transfer come from the heap, fragment it, and the process's RSS
creeps up with the size of the file. Pinning the threshold (which also switches off the dynamic
adjustment) keeps every big buffer on mmap, so peak RSS stays the same for 100 MB and for 2 GB.
Elsewhere (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 256 * 1024


@functools.cache
def pin_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold once per process; True when it was applied."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
