"""How a heavy step runs in its process: without Python's cyclic garbage collector.

A national period's steps hold a large heap (the config's 3 321 units, the summary, the archive's
earlier periods, the libraries) and allocate hundreds of thousands of objects more: each of the
collector's full passes walks the whole heap again (0.1–0.15 s each at 3 321 units, three
during a rendering). The steps make few reference cycles (a chart's figure is one), so
`gc_paused` turns the collector off for their duration and back on after, and a step that has
made some collects them where they are made (`collect_young`), not after it: left to the end of
the step they would stay in memory during the rest of it.
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


def collect_young() -> None:
    """Collect the reference cycles made since the last collection: the young generations only
    (what the step has just made), never a pass over the whole heap."""
    gc.collect(1)
