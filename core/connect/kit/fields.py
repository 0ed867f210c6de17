"""Lenient readers for organization fields: account value, health score, renewal date.

These fields are typed by people in the helpdesk's or CRM's admin screens (a text field holding
"$120,000", a health of 150, "n/a" for a renewal date). A value that cannot be read is not a
reason to stop syncing tickets: it is dropped (None) with a warning naming the record and the
field, and the ticket syncs without it. Only the envelope of a response is read strictly.

    read = OrgFieldReader("Account 0015e00000QwErTAAU")
    value = read.number("AnnualRevenue", acc.get("AnnualRevenue"))
    health = read.health("Health__c", acc.get("Health__c"))
    renewal = read.date("Renewal__c", acc.get("Renewal__c"))
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from deskwatch.core.connect.payload import describe
from deskwatch.core.model import Organization
from deskwatch.core.model.timeutil import parse_date

log = logging.getLogger("deskwatch.core.connect.kit")

# What people put around a number in a text field: currency signs, thousands separators, spaces.
_NUMBER_NOISE = re.compile(r"[\s,_$€£]")


def number(value: Any) -> float | None:
    """A JSON number, or a string such as "120000", "$120,000.50", "1 250 000"; None otherwise
    (including booleans, NaN and infinities)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        n = float(value)
    elif isinstance(value, str):
        cleaned = _NUMBER_NOISE.sub("", value)
        if not cleaned:
            return None
        try:
            n = float(cleaned)
        except ValueError:
            return None
    else:
        return None
    return n if math.isfinite(n) else None


def health(value: Any, words: Mapping[str, float] | None = None) -> float | None:
    """A health score as 0 (about to churn) .. 1 (healthy): a fraction as is, a percentage
    (above 1, up to 100) divided by 100, a word from ``words`` (case-insensitive); None for
    anything else (negative, above 100, unreadable)."""
    if isinstance(value, str) and words:
        word = {k.lower(): v for k, v in words.items()}.get(value.strip().lower())
        if word is not None:
            return word
    n = number(value)
    if n is None or n < 0 or n > 100:
        return None
    return n if n <= 1 else n / 100


def calendar_date(value: Any) -> date | None:
    """A date (``2026-12-31``, a datetime's date part); None for anything else."""
    if value in (None, ""):
        return None
    try:
        return parse_date(value)
    except (TypeError, ValueError):
        return None


@dataclass
class OrgFieldReader:
    """Reads one organization record's fields leniently, warning once per unreadable value.

    ``record`` names the record in warnings ("Account 0015e…", "company 12");
    ``dropped`` lists the fields that were dropped, for a caller that wants to report them."""

    record: str
    logger: logging.Logger = log
    dropped: list[str] = field(default_factory=list)

    def _drop(self, name: str, value: Any, expected: str) -> None:
        self.dropped.append(name)
        self.logger.warning("%s: %s is %s, not %s; left empty (the ticket still syncs)", self.record, name, describe(value), expected)

    def number(self, name: str, value: Any) -> float | None:
        """An amount such as an annual account value (see ``number``)."""
        n = number(value)
        if n is None and value not in (None, ""):
            self._drop(name, value, "a number")
        return n

    def health(self, name: str, value: Any, words: Mapping[str, float] | None = None) -> float | None:
        """A health score in 0..1 (see ``health``)."""
        h = health(value, words)
        if h is None and value not in (None, ""):
            expected = "a score between 0 and 1 (or 0..100)"
            if words:
                expected += " or one of " + ", ".join(f'"{w}"' for w in words)
            self._drop(name, value, expected)
        return h

    def date(self, name: str, value: Any) -> date | None:
        """A renewal date or similar (see ``calendar_date``)."""
        d = calendar_date(value)
        if d is None and value not in (None, ""):
            self._drop(name, value, "a date such as 2026-12-31")
        return d


def field_value(record: Mapping[str, Any], path: str, fallback: str | None = None) -> Any:
    """The value at a dotted ``path`` ("custom_fields.arr", "Parent.Tier__c"); a plain name not
    found at the top is also looked up in the ``fallback`` sub-object (e.g. "custom_fields",
    where Freshdesk keeps account-defined fields). None when absent."""
    cur: Any = record
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    if cur is None and fallback and "." not in path and isinstance(record.get(fallback), Mapping):
        return record[fallback].get(path)
    return cur


def organization(
    record: Mapping[str, Any],
    org_id: str | None,
    *,
    label: str,
    name: str | None = None,
    value: str = "",
    tier: str = "",
    renewal: str = "",
    health: str = "",
    health_words: Mapping[str, float] | None = None,
    fallback: str | None = None,
    logger: logging.Logger = log,
) -> Organization:
    """An Organization from an account record: annual value, tier, renewal date and health at
    the given field paths (see ``field_value``; "" = not configured), read leniently: what
    cannot be read is left empty with a warning naming ``label`` and the field."""
    read = OrgFieldReader(label, logger)

    def get(path: str) -> Any:
        return field_value(record, path, fallback) if path else None

    t = get(tier)
    return Organization(
        id=org_id,
        name=name,
        annual_value=read.number(value, get(value)),
        tier=str(t).strip() or None if t is not None and not isinstance(t, bool) else None,
        renewal_date=read.date(renewal, get(renewal)),
        health=read.health(health, get(health), health_words),
    )
