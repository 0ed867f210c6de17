"""The JSON form of tickets, decisions and updates: the one place that knows it. Connectors build
``Ticket`` objects, the store and the CLI serialize through these functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from deskwatch.core.model.timeutil import format_time, parse_date, parse_time
from deskwatch.core.model.types import CHANNELS, STATUSES, PRIORITIES, AUTHORS, TicketError, Person, Organization, Message, StatusChange, Ticket, Signal, SlaTarget, SlaStatus, Route, Management, Decision, TicketUpdate, MANAGEMENT

def _opt_str(d: Mapping[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        raise TicketError(f"{key}: expected a string, got {type(v).__name__}")
    return v


def _opt_float(d: Mapping[str, Any], key: str, where: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TicketError(f"{where}{key}: expected a number, got {v!r}")
    return float(v)


def _time(d: Mapping[str, Any], key: str, where: str = "", default: datetime | None = None) -> datetime:
    v = d.get(key)
    if v is None:
        if default is not None:
            return default
        raise TicketError(f"{where}{key}: missing (an ISO 8601 time such as 2026-11-23T09:00:00Z)")
    try:
        return parse_time(v)
    except ValueError as e:
        raise TicketError(f"{where}{key}: {e}") from None


def _choice(d: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None) -> str | None:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, str) or v.lower() not in choices:
        raise TicketError(f"{key}: expected one of {', '.join(choices)}, got {v!r}")
    return v.lower()


def person_from_dict(d: Any, where: str) -> Person | None:
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TicketError(f"{where}: expected an object with id, email, name")
    email = _opt_str(d, "email")
    return Person(id=_opt_str(d, "id"), email=email.strip().lower() if email else None, name=_opt_str(d, "name"))


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
    return Organization(
        id=_opt_str(d, "id"),
        name=_opt_str(d, "name"),
        annual_value=_opt_float(d, "annual_value", "organization."),
        tier=_opt_str(d, "tier"),
        renewal_date=renewal_date,
        health=_opt_float(d, "health", "organization."),
    )


def message_from_dict(d: Any, i: int, default_time: datetime) -> Message:
    where = f"messages[{i}]."
    if not isinstance(d, Mapping):
        raise TicketError(f"messages[{i}]: expected an object with author, created_at, body")
    author = d.get("author", "customer")
    if author not in AUTHORS:
        raise TicketError(f"{where}author: expected one of {', '.join(AUTHORS)}, got {author!r}")
    body = d.get("body", "")
    if not isinstance(body, str):
        raise TicketError(f"{where}body: expected a string")
    return Message(
        author=author,
        created_at=_time(d, "created_at", where, default=default_time),
        body=body,
        public=bool(d.get("public", True)),
        author_id=_opt_str(d, "author_id"),
    )


def ticket_from_dict(d: Any) -> Ticket:
    """Read a ticket in deskwatch's JSON form (README, "Ticket format"); raises TicketError."""
    if not isinstance(d, Mapping):
        raise TicketError("expected a JSON object")
    tid = d.get("id")
    if tid is None or tid == "":
        raise TicketError("id: missing (e.g. \"zendesk:123\")")
    if "messages" not in d:
        raise TicketError("messages: missing (a list of {author, created_at, body})")
    if not isinstance(d["messages"], list):
        raise TicketError("messages: expected a list")
    tid = str(tid)
    source = _opt_str(d, "source") or (tid.split(":", 1)[0] if ":" in tid else "unknown")
    created = _time(d, "created_at", default=None) if d.get("created_at") else None
    raw_messages = d["messages"]
    first_time = None
    if created is None:
        # A ticket with no created_at is dated by its first message, so age stays meaningful.
        for m in raw_messages:
            if isinstance(m, Mapping) and m.get("created_at"):
                first_time = _time(m, "created_at", "messages[0].")
                break
        if first_time is None:
            raise TicketError("created_at: missing, and no message carries a time")
        created = first_time
    messages = tuple(message_from_dict(m, i, created) for i, m in enumerate(raw_messages))
    updated = _time(d, "updated_at", default=max([created, *(m.created_at for m in messages)]))
    tags = d.get("tags") or ()
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise TicketError("tags: expected a list of strings")
    affected = d.get("affected_users")
    if affected is not None and (isinstance(affected, bool) or not isinstance(affected, int) or affected < 0):
        raise TicketError(f"affected_users: expected a whole number of users, got {affected!r}")
    history = d.get("status_history") or ()
    if not isinstance(history, (list, tuple)):
        raise TicketError("status_history: expected a list of {status, at}")
    status_history = []
    for i, h in enumerate(history):
        if not isinstance(h, Mapping):
            raise TicketError(f"status_history[{i}]: expected an object with status and at")
        st = _choice(h, "status", STATUSES, None)
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
    )


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


def management_to_dict(m: Management | None) -> dict[str, Any] | None:
    return None if m is None else {"reasons": list(m.reasons), "evidence": list(m.evidence)}


def management_from_dict(d: Any) -> Management | None:
    if not d:
        return None
    return Management(reasons=tuple(d.get("reasons", ())), evidence=tuple(d.get("evidence", ())))


def decision_to_dict(dec: Decision) -> dict[str, Any]:
    return {
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
