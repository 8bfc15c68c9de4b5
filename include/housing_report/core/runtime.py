"""How a heavy step runs in its process: without Python's cyclic garbage collector.

A national period's steps hold a large heap (the config's 3 321 units, the summary, the archive's
earlier periods, the libraries) and allocate hundreds of thousands of objects more: each of the
collector's full passes walks the whole heap again (0.1–0.15 s each at 3 321 units, three
during a rendering). The steps make no reference cycles to speak of (the few a chart's figure
makes are collected once the step is over), so `gc_paused` turns the collector off for their
duration and back on after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (or the decorated function); collection
    resumes after it, unless it was off before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
