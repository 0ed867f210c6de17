"""The deskwatch hook specifications: what a plugin can implement.

A plugin is a module (or object) with functions decorated by ``hookimpl`` and named after the
hooks below; it is found through the ``deskwatch`` entry-point group::

    # pyproject.toml of a plugin distribution named deskwatch-<name>
    [project.entry-points.deskwatch]
    acme = "deskwatch_acme"

    # deskwatch_acme/__init__.py
    from deskwatch.core import hookimpl

    @hookimpl
    def deskwatch_register_connector_types(register):
        register(ConnectorType("acme", parse_settings, create))

Rules of the road (pluggy's, STYLE.md P1/P2):

* Hooks are synchronous. Async work (fetching, updating) lives in methods of the objects a
  plugin registers, such as ``Connector.fetch``; never write a hook as ``async def``.
* An implementation may accept any subset of a hook's arguments, by name. Do not give them
  default values: pluggy does not pass arguments that have defaults.
* Implementations run last-registered-first; none of these hooks is ``firstresult`` unless
  its documentation says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    import argparse

    from deskwatch.core.config import Config
    from deskwatch.core.connect.contract import ConnectorType
    from deskwatch.core.model import Decision, Ticket

PROJECT = "deskwatch"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -- registration hooks: called once when the plugin manager is first used --------------------


@hookspec
def deskwatch_register_connector_types(register: Callable[["ConnectorType"], None]) -> None:
    """Register the kinds of helpdesk this plugin can connect to.

    Call ``register(ConnectorType(name, parse_settings, create))`` once per type. A type name
    registered by two plugins is a load error naming both.

    :param register: takes one :class:`deskwatch.core.connect.contract.ConnectorType`.
    :return: nothing; the return value is ignored. Not firstresult.

    .. versionadded:: 0.1
    """


@hookspec
def deskwatch_register_signals(register: Callable[..., None]) -> None:
    """Contribute escalation signals.

    Call ``register(fn)`` or ``register(fn, name="my_signal")``. ``fn(ticket, ctx)`` must be pure
    (no I/O, no clock reads: ``ctx`` carries ``now``) and return a
    :class:`deskwatch.core.model.Signal`, a list of them, or None when it does not fire.

    :param register: takes a signal function and an optional ``name`` (default: the function's
        ``__name__``). A duplicate name is a load error.
    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


@hookspec
def deskwatch_register_analyzers(register: Callable[[str, Callable[[], Any]], None]) -> None:
    """Contribute sentiment analyzers, selectable with ``[nlp] analyzer = "<name>"``.

    Call ``register(name, factory)``; ``factory()`` returns an object with ``name`` and
    ``score(text) -> float`` in -1..1 (the ``deskwatch.core.engine.nlp`` Analyzer protocol). Factories
    are called only when the analyzer is chosen, so heavy models load lazily. Optional:
    ``score_many(texts)`` (else ``score`` is called per text) and ``bulk = True`` when one large
    ``score_many`` call is much faster than many small ones (the engine then scores a whole
    batch of tickets at once).

    :param register: takes the analyzer's name and a zero-argument factory.
    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


@hookspec
def deskwatch_register_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Add ``deskwatch <command>`` sub-commands.

    Use ``p = subparsers.add_parser(name, help=...)`` and ``p.set_defaults(func=run)``, where
    ``run(args) -> int`` returns the exit code (0 ok, 1 partial failure, 2 usage error).

    :param subparsers: the argparse sub-parser collection of the ``deskwatch`` command.
    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


# -- life cycle and reactions --------------------------------------------------------------------


@hookspec
def deskwatch_startup(config: "Config") -> None:
    """Called once when the daemon or the console starts, after the configuration is loaded.

    Read plugin settings, open files, warm caches. Keep it quick: the daemon waits for it. A
    failure is reported and the plugin's other hooks keep working.

    :param config: the loaded :class:`deskwatch.core.config.Config`.
    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


@hookspec
def deskwatch_shutdown() -> None:
    """Called once when the daemon or console stops, after syncing has drained.

    Flush and close what ``deskwatch_startup`` opened.

    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


@hookspec
def deskwatch_decision_made(decision: "Decision", ticket: "Ticket") -> None:
    """React to an escalation decision, e.g. post to chat or page someone.

    Called for every new or changed decision. Must not block: hand slow work to a queue or a
    thread. An exception is logged and does not stop other plugins or the engine.

    :param decision: the engine's :class:`deskwatch.core.model.Decision`.
    :param ticket: the :class:`deskwatch.core.model.Ticket` it is about.
    :return: nothing. Not firstresult.

    .. versionadded:: 0.1
    """


__all__ = [
    "PROJECT",
    "hookimpl",
    "hookspec",
    "deskwatch_register_connector_types",
    "deskwatch_register_signals",
    "deskwatch_register_analyzers",
    "deskwatch_register_commands",
    "deskwatch_startup",
    "deskwatch_shutdown",
    "deskwatch_decision_made",
]
