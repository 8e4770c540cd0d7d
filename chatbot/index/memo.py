"""A one-entry memo: a reply parses, searches and then weighs the same query."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LastCall(Generic[Value]):
    """`compute(key)`, kept for the last key asked for.

    The (key, value) pair is swapped whole, so threads reading it never see a
    key with another key's value.
    """

    def __init__(self, compute: Callable[[Hashable], Value]):
        self._compute = compute
        self._last: tuple[Hashable, Value] | None = None

    def __call__(self, key: Hashable) -> Value:
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        value = self._compute(key)
        self._last = (key, value)
        return value
