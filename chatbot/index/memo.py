"""A one-entry memo: a reply parses, searches and then weighs the same query."""
from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LastCall(Generic[Value]):
    """`compute(key)`, kept for the last key asked for.

    The (key, value) pair is swapped whole, so threads reading it never see a
    key with another key's value. A bound method is held weakly: an index that
    keeps a memo of its own method would otherwise be in a reference cycle, and
    a replaced index would wait for a full garbage collection, which stalls the
    worker that runs it, instead of being freed the moment the last request
    using it ends.
    """

    def __init__(self, compute: Callable[[Hashable], Value]):
        self._compute = weakref.WeakMethod(compute) if inspect.ismethod(compute) else (lambda: compute)
        self._last: tuple[Hashable, Value] | None = None

    def __call__(self, key: Hashable) -> Value:
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        value = self._compute()(key)
        self._last = (key, value)
        return value
