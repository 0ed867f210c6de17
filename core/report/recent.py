"""The report over the last few weeks, as the console's overview shows it: the same figures as
`deskwatch report --since <Monday N weeks ago>`, computed by the same functions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from deskwatch.core.policy import calendar as cal_mod
from deskwatch.core.report.data import Period, load, store_has_history
from deskwatch.core.report.metrics import Report, build, week_of
from deskwatch.core.model.timeutil import format_time, parse_time


def night_of_in(zone: Any):
    """A night runs from noon to noon in ``zone``: a page at 02:00 belongs to the evening before."""
    def night_of(t: datetime) -> date:
        return (t.astimezone(zone) - timedelta(hours=12)).date()
    return night_of


def since_weeks(now: datetime, weeks: int) -> datetime:
    """Midnight UTC of the Monday ``weeks - 1`` weeks before ``now``'s week: ``weeks`` whole
    report weeks, the current one included."""
    monday = parse_time(week_of(now) + "T00:00:00Z")
    return monday - timedelta(weeks=max(1, weeks) - 1)


def recent(store: Any, calendar: Any, now: datetime, weeks: int = 8) -> Report | None:
    """The report over the tickets created in the last ``weeks`` weeks up to ``now`` (business
    hours and nights from ``calendar``, the ``[sla]`` default calendar, as `deskwatch report`);
    None when the store holds no decision yet or no ticket was created in the period."""
    if not store_has_history(store):
        return None
    since = since_weeks(now, weeks)
    facts = load(store, Period(since, None))
    if not facts:
        return None
    return build(facts, since=format_time(since), until=None,
                 is_business=lambda t: cal_mod.in_business_hours(calendar, t), night_of=night_of_in(calendar.zone))
