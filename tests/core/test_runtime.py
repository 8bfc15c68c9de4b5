"""A heavy step without the cyclic garbage collector (`core.runtime`)."""

from __future__ import annotations

import gc
import weakref

from housing_report.core.runtime import collect_young, gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_the_collector_is_off_inside_and_back_on_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_decorated_function_runs_without_the_collector():
    @gc_paused()
    def step() -> bool:
        return gc.isenabled()

    assert step() is False
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_made_in_a_paused_step_are_freed_by_collect_young():
    with gc_paused():
        node = _Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # no collector: the cycle stays
        collect_young()
        assert gone() is None
