"""Working periods as people write them ("09:00-17:30", overnight "22:00-06:00") and the check
that a week's periods do not overlap: the vocabulary calendars are built from."""

from __future__ import annotations

import re

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class CalendarError(ValueError):
    """A calendar definition that cannot work; the message names the problem."""

    def __init__(self, message: str, day: str | None = None):
        super().__init__(message)
        self.day = day  # the weekday key at fault, when there is one


def parse_period(text: str) -> tuple[int, int]:
    """"HH:MM-HH:MM" -> (start, end) in minutes after local midnight of the day it starts.

    An end at or before the start is an overnight period ending the next day, so the end may
    exceed 1440. "24:00" is allowed as an end. Raises CalendarError.
    """
    m = _PERIOD.match(text) if isinstance(text, str) else None
    if not m:
        raise CalendarError(f'expected a period such as "09:00-17:30", got {text!r}')
    sh, sm, eh, em = (int(g) for g in m.groups())
    if sh > 23 or sm > 59:
        raise CalendarError(f'{text!r}: start {sh:02d}:{sm:02d} is not a time of day (00:00 to 23:59)')
    if em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise CalendarError(f'{text!r}: end {eh:02d}:{em:02d} is not a time of day (00:00 to 24:00)')
    start, end = sh * 60 + sm, eh * 60 + em
    if end == start:
        raise CalendarError(f"{text!r}: a period cannot start and end at the same time")
    if end < start:
        end += 1440  # overnight: belongs to the day it starts
    return start, end


def format_period(start: int, end: int) -> str:
    e = end % 1440 if end != 1440 else 1440
    return f"{start // 60:02d}:{start % 60:02d}-{e // 60:02d}:{e % 60:02d}"


def check_week(week: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    """Periods must not overlap, within a day or across midnight (an overnight period running
    into the next day's first period). Raises CalendarError naming the weekday."""
    spans: list[tuple[int, int, int]] = []
    for i, periods in enumerate(week):
        for start, end in periods:
            spans.append((i * 1440 + start, i * 1440 + end, i))
    # Sunday's overnight period runs into Monday: compare it with the week before as well.
    spans += [(a - 7 * 1440, b - 7 * 1440, i) for a, b, i in spans if b > 7 * 1440]
    spans.sort()
    for (a1, b1, d1), (a2, b2, d2) in zip(spans, spans[1:]):
        if a2 < b1:
            first = f"{format_period(a1 % 1440, a1 % 1440 + b1 - a1)} ({DAYS[d1]})"
            raise CalendarError(
                f"period {format_period(a2 % 1440, a2 % 1440 + b2 - a2)} overlaps {first}; make the periods disjoint",
                day=DAYS[d2],
            )
