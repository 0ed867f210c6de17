"""What every screen of the console needs: the store, the config, who is acting, the clock."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from deskwatch.core.store import QueueFilter, Store
from deskwatch.core.model.timeutil import utcnow

ENV_ACTOR = "DESKWATCH_ACTOR"  # set by `deskwatch serve-ssh` to the key's comment


def resolve_actor(explicit: str | None, configured: str = "") -> str:
    """--actor, else $DESKWATCH_ACTOR (the SSH key comment), else tui.actor, else the local user."""
    for candidate in (explicit, os.environ.get(ENV_ACTOR), configured):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""  # operations refuse an empty actor with a message that says how to set one


@dataclass
class Console:
    """The console's view of the system. Data comes from ``store``; actions go through
    ``deskwatch.core.daemon.operations`` (see tui/screens/actions.py); nothing here calls a helpdesk."""

    store: Store
    actor: str
    clock: Callable[[], datetime] = utcnow
    write_back: dict[str, bool] = field(default_factory=dict)  # source -> write-back on
    refresh_interval: float = 1.0
    max_rows: int = 2000
    sources: tuple[str, ...] = ()
    routing: Any = None  # the RoutingConfig: the teams and agents the escalate form offers and checks
    keymap: dict[str, str] = field(default_factory=dict)  # [tui.keys]: action id -> keys
    max_snooze: timedelta = timedelta(days=7)  # [tui] max_snooze: a longer snooze is refused
    acknowledge_assigns: bool = True  # [tui] acknowledge_assigns: acknowledging takes the ticket
    # The [sla] default calendar: business hours and nights for the overview's report.
    calendar: Any = field(default_factory=lambda: default_calendar())

    def teams(self) -> tuple[str, ...]:
        return tuple(t.name for t in getattr(self.routing, "teams", ()))

    def agents(self) -> tuple[str, ...]:
        return tuple(a.name for a in getattr(self.routing, "agents", ()))

    def agents_for(self, team: str | None) -> tuple[str, ...]:
        """Every agent, the members of ``team`` first (in the team's order), then the others A to Z."""
        members: tuple[str, ...] = ()
        for t in getattr(self.routing, "teams", ()):
            if team and t.name.casefold() == team.casefold():
                members = tuple(t.members)
        known = self.agents()
        return (*[m for m in members if m in known or not known], *sorted(a for a in known if a not in members))

    @classmethod
    def from_config(cls, cfg: Any, store: Store, actor: str | None = None, clock: Callable[[], datetime] = utcnow) -> "Console":
        return cls(
            store=store, actor=resolve_actor(actor, cfg.tui.actor), clock=clock,
            write_back={name: s.write_back for name, s in cfg.sources.items()},
            refresh_interval=cfg.tui.refresh_interval, max_rows=cfg.tui.max_rows,
            sources=tuple(sorted(cfg.sources)),
            routing=getattr(cfg, "routing", None),
            keymap=dict(cfg.tui.keys),  # checked against the screens by tui.app.check_keys
            max_snooze=getattr(cfg.tui, "max_snooze", timedelta(days=7)),
            acknowledge_assigns=getattr(cfg.tui, "acknowledge_assigns", True),
            calendar=_calendar(cfg),
        )

    def writes_back(self, source: str) -> bool:
        return self.write_back.get(source, False)


def default_calendar() -> Any:
    """The embedded defaults' SLA calendar (a console built without a config)."""
    from deskwatch.core.model.settings import Section
    from deskwatch.core.policy import sla

    return sla.parse(Section({}, "sla")).calendar()


def _calendar(cfg: Any) -> Any:
    try:
        return cfg.sla.calendar()
    except (AttributeError, KeyError):
        return default_calendar()


def matches(f: QueueFilter, row: Any) -> bool:
    """Whether a queue row passes ``f``: the same test the store's SQL makes, for live rows."""
    for attr in ("source", "channel", "tier", "sla_state", "assignee"):
        want = getattr(f, attr)
        if want is not None and getattr(row, attr) != want:
            return False
    if f.team is not None and (row.team or "").casefold() != f.team.casefold():
        return False  # as the store does: team names match whatever their case
    if f.needs_review is not None and row.needs_review != f.needs_review:
        return False
    if f.text:
        needle = f.text.lower()
        hay = (row.subject, row.customer_name, row.customer_email, row.organization)
        if not any(needle in (h or "").lower() for h in hay):
            return False
    return True
