"""``lazy``: a property computed on first access and then stored on the instance; ``Recent``: a
bounded memo of what is still being read.

Like ``functools.cached_property`` but without the lock Python 3.11 takes on every first
access; the engine reads several per ticket, so the lock showed in the profile. Not
thread-safe in the sense that two threads may both compute the value (both get an equal one).
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar, overload

T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801 - used as a decorator, like property
    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> "lazy[T]": ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        # A non-data descriptor: once the value is in the instance __dict__, attribute lookup
        # finds it there and never calls __get__ again.
        value = instance.__dict__[self.name] = self.fn(instance)
        return value


class Recent(dict):
    """A bounded memo that keeps what is still being read: two generations, the current one
    and the one before. Read with ``get`` (the current one), then ``recall`` (the older one: a
    key found there moves to the current one); when the current one is full it becomes the
    older one. Text that never repeats (a reference number, a customer's own words) passes
    through without flushing the sentences every ticket repeats (greetings, macros, "Any update
    on this?"), as clearing everything at the bound did."""

    __slots__ = ("limit", "older")

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.older: dict = {}

    def recall(self, key):
        """The value kept in the older generation (moved to the current one), or None."""
        value = self.older.get(key)
        if value is not None:
            self.put(key, value)
        return value

    def put(self, key, value) -> None:
        """Keep ``value`` under ``key`` in the current generation."""
        if len(self) >= self.limit:
            self.older = dict(self)
            self.clear()
        self[key] = value
