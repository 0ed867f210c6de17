"""Audit records as sentences a person reads: "ana escalated to tier3 / platform: outage".

One small function per kind the core writes; a kind this module does not know (a plugin's, or a
newer core's) is still shown whole, as "kind: field value, field value", never cut.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from deskwatch.core.model import AuditRecord
from deskwatch.core.model.timeutil import parse_time
from deskwatch.tui.htmltext import one_line


def _when(value: Any) -> str:
    """A time (the store gives ISO strings back) as "2026-11-23 12:00Z"; anything else as is."""
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            value = parse_time(value)
        except (ValueError, TypeError):
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + "Z"
    return str(value)


def _because(d: Mapping[str, Any], key: str = "reason") -> str:
    why = one_line(str(d.get(key) or ""))
    return f": {why}" if why else ""


def _where(tier: Any, team: Any, agent: Any = None) -> str:
    return " / ".join(str(p) for p in (tier, team) if p) + (f" -> {agent}" if agent else "")


def _decision(r: AuditRecord, d: Mapping[str, Any]) -> str:
    who = "decided" if r.actor == "deskwatch" else "recorded a decision:"
    text = f"{r.actor} {who} {d.get('recommendation') or 'no recommendation'}, score {d.get('score', 0):.0f}"
    where = _where(d.get("tier"), d.get("team"), d.get("agent"))
    if where:
        text += f", route {where}"
    if d.get("confidence") is not None:
        text += f", confidence {float(d['confidence']):.0%}"
    return text + (" (needs review)" if d.get("needs_review") else "")


def _acknowledge(r: AuditRecord, d: Mapping[str, Any]) -> str:
    text = f"{r.actor} acknowledged" + (" and took the ticket" if d.get("assignee") else "")
    if d.get("via"):
        text += f" by a {d['via']}"
    if d.get("expires_at"):
        text += f", until {_when(d['expires_at'])}"
    return text


def _action(r: AuditRecord, d: Mapping[str, Any]) -> str:
    if d.get("action") == "assign":
        to = " in ".join(x for x in (d.get("assignee"), d.get("team")) if x)
        return f"{r.actor} assigned the ticket to {to} (was {d.get('from') or 'unassigned'}){_because(d)}"
    return _generic(r, d)


def _escalate(r: AuditRecord, d: Mapping[str, Any]) -> str:
    return f"{r.actor} escalated to {_where(d.get('tier'), d.get('team'), d.get('agent')) or 'a new route'}{_because(d)}"


def _override(r: AuditRecord, d: Mapping[str, Any]) -> str:
    if "to" in d:
        return f"{r.actor} overrode the recommendation {d.get('from') or 'undecided'} -> {d['to']}{_because(d)}"
    new = d.get("new") or {}
    return f"{r.actor} overrode the route to {_where(new.get('tier'), new.get('team'), new.get('agent'))}{_because(d)}"


def _priority(r: AuditRecord, d: Mapping[str, Any]) -> str:
    return f"{r.actor} changed the priority {d.get('from') or 'none'} -> {d.get('to')}{_because(d)}"


def _snooze(r: AuditRecord, d: Mapping[str, Any]) -> str:
    return f"{r.actor} snoozed the escalation until {_when(d.get('until'))}{_because(d)}"


def _note(r: AuditRecord, d: Mapping[str, Any]) -> str:
    return f"{r.actor} added a private note: {one_line(str(d.get('text') or ''))}"


def _feedback(r: AuditRecord, d: Mapping[str, Any]) -> str:
    verdict = "accepted" if d.get("accept") else "rejected"
    text = f"{r.actor} {verdict} the decision ({d.get('recommendation')}, score {d.get('score', 0):.0f})"
    return text + _because(d, "comment")


def _shadow(r: AuditRecord, d: Mapping[str, Any]) -> str:
    n = len(d.get("would_apply") or ())
    return f"write-back is off: deskwatch would have sent {n} update{'' if n == 1 else 's'} to the helpdesk"


def _hold_ended(r: AuditRecord, d: Mapping[str, Any]) -> str:
    return f"{d.get('actor')}'s {d.get('kind')} no longer holds{_because(d, 'why')}"


def _tone_label(r: AuditRecord, d: Mapping[str, Any]) -> str:
    which = f"message #{int(d['message']) + 1}" if isinstance(d.get("message"), int) else "a message"
    at = f" of {_when(d.get('message_at'))}" if d.get("message_at") else ""
    return f"{r.actor} labelled the customer's {which}{at} {d.get('label')}: \"{one_line(str(d.get('text') or ''))[:60]}\""


def _retry_update(r: AuditRecord, d: Mapping[str, Any]) -> str:
    after = f" after {d.get('attempts')} attempt(s)" if d.get("attempts") is not None else ""
    return f"{r.actor} sent a failed helpdesk update again{after}; it had failed with: {one_line(str(d.get('error') or 'unknown error'))}"


SENTENCES: dict[str, Callable[[AuditRecord, Mapping[str, Any]], str]] = {
    "decision": _decision, "action": _action, "acknowledge": _acknowledge, "escalate": _escalate, "override": _override,
    "priority": _priority, "snooze": _snooze, "note": _note, "feedback": _feedback, "shadow": _shadow,
    "hold_ended": _hold_ended, "tone_label": _tone_label, "retry_update": _retry_update,
}


def _generic(r: AuditRecord, d: Mapping[str, Any]) -> str:
    parts = [f"{k.replace('_', ' ')} {_when(v)}" for k, v in d.items() if v not in (None, "", [], {})]
    return f"{r.actor} {r.kind.replace('_', ' ')}" + (": " + ", ".join(parts) if parts else "")


def sentence(record: AuditRecord) -> str:
    """The record as one readable sentence (whole: the screen wraps it, nothing is cut)."""
    d = dict(record.data or {})
    try:
        return SENTENCES.get(record.kind, _generic)(record, d)
    except (TypeError, ValueError, AttributeError):
        return _generic(record, d)  # a record of an older or newer shape: show what it holds
