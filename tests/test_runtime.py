"""The garbage-collector pause around bulk jobs restores the collector and loses nothing."""

from __future__ import annotations

import gc
import weakref

from mutasi_rules.core.runtime import fewer_collections


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_the_collector_is_paused_then_restored_and_cycles_are_still_collected():
    assert gc.isenabled()
    with fewer_collections():
        assert not gc.isenabled()
        ref = weakref.ref(Node())
        kept = [Node() for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert ref() is not None  # made during the pause, not collected yet
    gc.collect()
    assert ref() is None and all(k.me is k for k in kept)


def test_a_disabled_collector_stays_disabled_and_frozen_objects_stay_frozen():
    gc.disable()
    try:
        with fewer_collections():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with fewer_collections():
            Node()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
