"""deskwatch core: the escalation engine, its data model, store, daemon and CLI."""

from deskwatch.core.connect.hookspecs import hookimpl  # noqa: F401  (plugins write `from deskwatch.core import hookimpl`)
