"""Process-level tuning shared by the heavy entry points (loading, the pipeline)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Young-generation threshold while a bulk job runs (Python's default is 700).
GC_YOUNG_THRESHOLD = 100_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run with a larger young-generation threshold for the cyclic garbage collector.

    Loading a dataset or running the pipeline allocates millions of short-lived objects
    next to data that stays alive; with the default threshold the collector traverses the
    growing heap again and again: a quarter of a 7,000-employee run, and about a fifth of
    loading its CSV (measured, docs/performance.md). Collection still happens, only less
    often; the previous thresholds are restored afterwards.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], GC_YOUNG_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
