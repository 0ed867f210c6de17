"""The JSON form of tickets, decisions and updates: the one place that knows it. Connectors build
``Ticket`` objects, the store and the CLI serialize through these functions."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Mapping

from deskwatch.core.model.timeutil import format_time, parse_date, parse_time
from deskwatch.core.model.types import LearnedReading, CHANNELS, STATUSES, PRIORITIES, AUTHORS, TicketError, Person, Organization, Message, StatusChange, Satisfaction, SATISFACTION_SCORES, Ticket, Signal, SlaTarget, SlaStatus, Route, Management, Decision, TicketUpdate, MANAGEMENT

# Times outside these years are typos or hostile input; the calendar and SLA arithmetic add days
# and years to them, so they must stay far from datetime's limits (years 1 and 9999).
MIN_YEAR, MAX_YEAR = 1970, 2200
# Larger magnitudes are no real money, health or user count, and beyond ~1e308 floats overflow.
MAX_MAGNITUDE = 1e15
MAX_USERS = 10**9


def _show(v: Any) -> str:
    """A short description of a bad value for an error message (never thousands of digits)."""
    if isinstance(v, Mapping):
        return "an object"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) and abs(v) > 10**18:
        return f"a number of about {int(v.bit_length() * 0.30103) + 1} digits"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _clean(v: str, key: str) -> str:
    # A JSON "\ud800" escape gives a lone surrogate, which no UTF-8 output can carry. ASCII text
    # has none; only other text is encoded to check (encoding every string cost a copy of each).
    if v.isascii():
        return v
    try:
        v.encode("utf-8")
    except UnicodeEncodeError as e:
        raise TicketError(f"{key}: contains an unpaired UTF-16 surrogate at character {e.start + 1}; "
                          "fix the text's encoding") from None
    return v


def _opt_str(d: Mapping[str, Any], key: str, where: str = "") -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        if abs(v) > 10**18:
            raise TicketError(f"{where}{key}: expected a string, got {_show(v)}")
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise TicketError(f"{where}{key}: expected a string, got {_show(v)}")
        return str(v)
    if not isinstance(v, str):
        raise TicketError(f"{where}{key}: expected a string, got {_show(v)}")
    return _clean(v, f"{where}{key}")


def _opt_float(d: Mapping[str, Any], key: str, where: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TicketError(f"{where}{key}: expected a number, got {_show(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise TicketError(f"{where}{key}: expected a number, got {_show(v)} (NaN and Infinity are not numbers)")
    if abs(v) > MAX_MAGNITUDE:
        raise TicketError(f"{where}{key}: {_show(v)} is out of range (at most {MAX_MAGNITUDE:g}); check the value")
    return float(v)


def _opt_bool(d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        # "false" as a string would read as true: refuse rather than guess.
        raise TicketError(f"{where}{key}: expected true or false (JSON booleans, no quotes), got {_show(v)}")
    return v


def _in_range(value: datetime | date, key: str) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise TicketError(f"{key}: year {value.year} is outside {MIN_YEAR}-{MAX_YEAR}; check the date")


def _time(d: Mapping[str, Any], key: str, where: str = "", default: datetime | None = None) -> datetime:
    v = d.get(key)
    if v is None:
        if default is not None:
            return default
        raise TicketError(f"{where}{key}: missing (an ISO 8601 time such as 2026-11-23T09:00:00Z)")
    try:
        t = parse_time(v)
    except ValueError as e:
        raise TicketError(f"{where}{key}: {e}") from None
    _in_range(t, f"{where}{key}")
    return t


def _choice(d: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None, where: str = "") -> str | None:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, str) or v.lower() not in choices:
        raise TicketError(f"{where}{key}: expected one of {', '.join(choices)}, got {_show(v)}")
    return v.lower()


def _id(d: Mapping[str, Any]) -> str:
    tid = d.get("id")
    if tid is None or tid == "":
        raise TicketError("id: missing (e.g. \"zendesk:123\")")
    if isinstance(tid, bool) or not isinstance(tid, (str, int)):
        raise TicketError(f"id: expected a string such as \"zendesk:123\", got {_show(tid)}")
    if isinstance(tid, int) and abs(tid) > 10**18:
        raise TicketError(f"id: expected a string such as \"zendesk:123\", got {_show(tid)}")
    tid = _clean(str(tid), "id")
    if not tid.strip():
        raise TicketError("id: blank; give the helpdesk's id (e.g. \"zendesk:123\")")
    return tid


def person_from_dict(d: Any, where: str) -> Person | None:
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TicketError(f"{where}: expected an object with id, email, name")
    w = f"{where}."
    email = _opt_str(d, "email", w)
    return Person(id=_opt_str(d, "id", w), email=email.strip().lower() if email else None, name=_opt_str(d, "name", w))


def organization_from_dict(d: Any) -> Organization | None:
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TicketError("organization: expected an object")
    renewal = d.get("renewal_date")
    try:
        renewal_date = parse_date(renewal) if renewal else None
    except ValueError as e:
        raise TicketError(f"organization.renewal_date: {e}") from None
    if renewal_date is not None:
        _in_range(renewal_date, "organization.renewal_date")
    w = "organization."
    return Organization(
        id=_opt_str(d, "id", w),
        name=_opt_str(d, "name", w),
        annual_value=_opt_float(d, "annual_value", w),
        tier=_opt_str(d, "tier", w),
        renewal_date=renewal_date,
        health=_opt_float(d, "health", w),
    )


def message_from_dict(d: Any, i: int, default_time: datetime) -> Message:
    where = f"messages[{i}]."
    if not isinstance(d, Mapping):
        raise TicketError(f"messages[{i}]: expected an object with author, created_at, body")
    author = d.get("author", "customer")
    if not isinstance(author, str) or author not in AUTHORS:
        raise TicketError(f"{where}author: expected one of {', '.join(AUTHORS)}, got {_show(author)}")
    body = d.get("body", "")
    if not isinstance(body, str):
        raise TicketError(f"{where}body: expected a string, got {_show(body)}")
    try:
        if not body.isascii():  # ASCII has no surrogate: the common case costs no encoding
            body.encode("utf-8")
    except UnicodeEncodeError:
        # Free text from a helpdesk: a broken emoji should not cost the ticket its decision.
        body = _SURROGATE.sub("\ufffd", body)
    return Message(
        author=author,
        created_at=_time(d, "created_at", where, default=default_time),
        body=body,
        public=_opt_bool(d, "public", where, True),
        author_id=_opt_str(d, "author_id", where),
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def ticket_from_dict(d: Any) -> Ticket:
    """Read a ticket in deskwatch's JSON form (README, "Ticket format"); raises TicketError."""
    if not isinstance(d, Mapping):
        raise TicketError("expected a JSON object")
    tid = _id(d)
    if "messages" not in d:
        raise TicketError("messages: missing (a list of {author, created_at, body})")
    if not isinstance(d["messages"], list):
        raise TicketError("messages: expected a list")
    source = _opt_str(d, "source") or (tid.split(":", 1)[0] if ":" in tid else "unknown")
    created = _time(d, "created_at", default=None) if d.get("created_at") else None
    raw_messages = d["messages"]
    first_time = None
    if created is None:
        # A ticket with no created_at is dated by its first message, so age stays meaningful.
        for i, m in enumerate(raw_messages):
            if isinstance(m, Mapping) and m.get("created_at"):
                first_time = _time(m, "created_at", f"messages[{i}].")
                break
        if first_time is None:
            raise TicketError("created_at: missing, and no message carries a time")
        created = first_time
    messages = tuple(message_from_dict(m, i, created) for i, m in enumerate(raw_messages))
    updated = _time(d, "updated_at", default=max([created, *(m.created_at for m in messages)]))
    tags = d.get("tags") or ()
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise TicketError("tags: expected a list of strings")
    for i, tag in enumerate(tags):
        _clean(tag, f"tags[{i}]")
    affected = d.get("affected_users")
    if affected is not None and (isinstance(affected, bool) or not isinstance(affected, int) or affected < 0):
        raise TicketError(f"affected_users: expected a whole number of users, got {_show(affected)}")
    if affected is not None and affected > MAX_USERS:
        raise TicketError(f"affected_users: {_show(affected)} is more than {MAX_USERS:,} users; check the value")
    history = d.get("status_history") or ()
    if not isinstance(history, (list, tuple)):
        raise TicketError("status_history: expected a list of {status, at}")
    status_history = []
    for i, h in enumerate(history):
        if not isinstance(h, Mapping):
            raise TicketError(f"status_history[{i}]: expected an object with status and at")
        st = _choice(h, "status", STATUSES, None, f"status_history[{i}].")
        if st is None:
            raise TicketError(f"status_history[{i}].status: missing")
        status_history.append(StatusChange(st, _time(h, "at", f"status_history[{i}].")))
    return Ticket(
        id=tid,
        source=source,
        channel=_choice(d, "channel", CHANNELS, "other") or "other",
        subject=_opt_str(d, "subject") or "",
        status=_choice(d, "status", STATUSES, "open") or "open",
        priority=_choice(d, "priority", PRIORITIES, None),
        created_at=created,
        updated_at=updated,
        messages=messages,
        requester=person_from_dict(d.get("requester"), "requester"),
        organization=organization_from_dict(d.get("organization")),
        assignee=_opt_str(d, "assignee"),
        group=_opt_str(d, "group"),
        tags=tuple(tags),
        affected_users=affected,
        url=_opt_str(d, "url"),
        status_history=tuple(sorted(status_history, key=lambda c: c.at)),
        satisfaction=satisfaction_from_dict(d.get("satisfaction")),
    )


def satisfaction_from_dict(d: Any) -> Satisfaction | None:
    """``{"score": "bad"|"neutral"|"good", "at": time, "comment": text}`` or null."""
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TicketError("satisfaction: expected an object with score (bad, neutral or good), at and comment")
    score = _choice(d, "score", SATISFACTION_SCORES, None, "satisfaction.")
    if score is None:
        raise TicketError("satisfaction.score: missing (bad, neutral or good)")
    at = _time(d, "at", "satisfaction.") if d.get("at") else None
    return Satisfaction(score, at, _opt_str(d, "comment", "satisfaction."))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def ticket_to_dict(t: Ticket) -> dict[str, Any]:
    org = t.organization
    return _drop_none(
        {
            "id": t.id,
            "source": t.source,
            "channel": t.channel,
            "subject": t.subject,
            "status": t.status,
            "priority": t.priority,
            "created_at": format_time(t.created_at),
            "updated_at": format_time(t.updated_at),
            "requester": _drop_none(vars(t.requester).copy()) if t.requester else None,
            "organization": _drop_none(
                {
                    "id": org.id,
                    "name": org.name,
                    "annual_value": org.annual_value,
                    "tier": org.tier,
                    "renewal_date": org.renewal_date.isoformat() if org.renewal_date else None,
                    "health": org.health,
                }
            )
            if org
            else None,
            "assignee": t.assignee,
            "group": t.group,
            "tags": list(t.tags),
            "affected_users": t.affected_users,
            "url": t.url,
            "status_history": [{"status": c.status, "at": format_time(c.at)} for c in t.status_history] or None,
            "satisfaction": _drop_none({"score": t.satisfaction.score, "at": format_time(t.satisfaction.at) if t.satisfaction.at else None,
                                        "comment": t.satisfaction.comment}) if t.satisfaction else None,
            "messages": [
                _drop_none(
                    {
                        "author": m.author,
                        "created_at": format_time(m.created_at),
                        "body": m.body,
                        "public": m.public,
                        "author_id": m.author_id,
                    }
                )
                for m in t.messages
            ],
        }
    )


def signal_to_dict(s: Signal) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": s.name,
        "value": round(s.value, 4),
        "weight": s.weight,
        "contribution": round(s.contribution, 2),
        "evidence": list(s.evidence),
        "detail": s.detail,
    }
    if s.category:
        d["category"] = s.category
    if s.hard:
        d["hard"] = True
    return d


def signal_from_dict(d: Mapping[str, Any]) -> Signal:
    return Signal(
        name=d["name"],
        value=float(d["value"]),
        weight=float(d["weight"]),
        contribution=float(d["contribution"]),
        evidence=tuple(d.get("evidence", ())),
        detail=d.get("detail", ""),
        category=d.get("category"),
        hard=bool(d.get("hard", False)),
    )


def sla_to_dict(s: SlaStatus) -> dict[str, Any]:
    return {
        "policy": s.policy,
        "state": s.state,
        "targets": {
            t.name: {
                "due_at": format_time(t.due_at) if t.due_at else None,
                "elapsed_pct": round(t.elapsed_pct, 1),
                "state": t.state,
                "minutes": t.minutes,
                "business": t.business,
            }
            for t in s.targets
        },
    }


def sla_from_dict(d: Mapping[str, Any]) -> SlaStatus:
    return SlaStatus(
        policy=d["policy"],
        targets=tuple(
            SlaTarget(
                name=name,
                due_at=parse_time(t["due_at"]) if t.get("due_at") else None,
                elapsed_pct=float(t["elapsed_pct"]),
                state=t["state"],
                business=bool(t.get("business", True)),
                minutes=int(t.get("minutes", 0)),
            )
            for name, t in d["targets"].items()
        ),
    )


def route_to_dict(r: Route) -> dict[str, Any]:
    return {
        "tier": r.tier,
        "team": r.team,
        "agent": r.agent,
        "on_call": r.on_call,
        "chain_step": r.chain_step,
        "chain": r.chain,
        "management": r.management,
        "page": r.page,
        "reason": r.reason,
    }


def _legacy_tier(tier: str) -> tuple[str, bool]:
    """(functional tier, whether management was meant): decisions stored before management
    became its own field carry tier "management" for what is now tier3 plus management."""
    return ("tier3", True) if tier == MANAGEMENT else (tier, False)


def route_from_dict(d: Mapping[str, Any]) -> Route:
    tier, legacy = _legacy_tier(d["tier"])
    return Route(
        tier=tier,
        team=d.get("team"),
        agent=d.get("agent"),
        on_call=bool(d.get("on_call", False)),
        chain_step=d.get("chain_step"),
        reason=d.get("reason", ""),
        chain=d.get("chain"),
        management=d.get("management") or (d.get("team") if legacy else None),
        page=bool(d.get("page", False)),
    )


def learned_to_dict(r: LearnedReading) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.team is not None:
        out["team"] = {"label": r.team[0], "p": r.team[1], "evidence": list(r.team[2])}
    if r.tone is not None:
        out["tone"] = {"label": r.tone[0], "p": r.tone[1]}
    if r.escalation is not None:
        out["escalation"] = {"p": r.escalation}
    out["versions"] = dict(r.versions)
    return out


def learned_from_dict(d: Mapping[str, Any]) -> LearnedReading:
    team, tone, esc = d.get("team"), d.get("tone"), d.get("escalation")
    return LearnedReading(
        team=(team["label"], float(team["p"]), tuple(team.get("evidence", ()))) if team else None,
        tone=(tone["label"], float(tone["p"])) if tone else None,
        escalation=float(esc["p"]) if esc else None,
        versions={str(k): int(v) for k, v in (d.get("versions") or {}).items()},
    )


def management_to_dict(m: Management | None) -> dict[str, Any] | None:
    return None if m is None else {"reasons": list(m.reasons), "evidence": list(m.evidence)}


def management_from_dict(d: Any) -> Management | None:
    if not d:
        return None
    return Management(reasons=tuple(d.get("reasons", ())), evidence=tuple(d.get("evidence", ())))


def decision_to_dict(dec: Decision) -> dict[str, Any]:
    out = {
        "ticket_id": dec.ticket_id,
        "score": round(dec.score, 1),
        "recommendation": dec.recommendation,
        "tier": dec.tier,
        "team": dec.team,
        "management": management_to_dict(dec.management),
        "page": dec.page,
        "page_reason": dec.page_reason,
        "confidence": round(dec.confidence, 3),
        "needs_review": dec.needs_review,
        "signals": [signal_to_dict(s) for s in dec.signals],
        "reasons": list(dec.reasons),
        "sla": sla_to_dict(dec.sla) if dec.sla else None,
        "route": route_to_dict(dec.route) if dec.route else None,
        "tones": list(dec.tones),
        "decided_at": format_time(dec.decided_at),
    }
    if dec.learned is not None:  # only when models are active, so rule-only output is unchanged
        out["learned"] = learned_to_dict(dec.learned)
    return out


def decision_from_dict(d: Mapping[str, Any]) -> Decision:
    """A stored decision. Decisions stored before issue 12 have no management or page fields
    (read as none and false) and may carry tier "management" (read as tier3 plus management)."""
    tier, legacy = _legacy_tier(d["tier"])
    management = management_from_dict(d.get("management"))
    if management is None and legacy:
        management = Management(("management tier (stored before management became its own field)",))
    return Decision(
        ticket_id=d["ticket_id"],
        score=float(d["score"]),
        recommendation=d["recommendation"],
        tier=tier,
        team=d.get("team"),
        confidence=float(d["confidence"]),
        needs_review=bool(d["needs_review"]),
        signals=tuple(signal_from_dict(s) for s in d.get("signals", ())),
        reasons=tuple(d.get("reasons", ())),
        decided_at=parse_time(d["decided_at"]),
        sla=sla_from_dict(d["sla"]) if d.get("sla") else None,
        route=route_from_dict(d["route"]) if d.get("route") else None,
        tones=tuple(float(v) for v in d.get("tones", ())),  # absent in decisions stored before 0.1
        management=management,
        page=bool(d.get("page", False)),
        page_reason=d.get("page_reason"),
        learned=learned_from_dict(d["learned"]) if d.get("learned") else None,
    )


def update_to_dict(u: TicketUpdate) -> dict[str, Any]:
    d = {k: v for k, v in vars(u).items() if v not in (None, ())}
    for k in ("tags_add", "tags_remove"):
        if k in d:
            d[k] = list(d[k])
    return d


def update_from_dict(d: Mapping[str, Any]) -> TicketUpdate:
    kw = dict(d)
    for k in ("tags_add", "tags_remove"):
        kw[k] = tuple(kw.get(k, ()))
    return TicketUpdate(**kw)
