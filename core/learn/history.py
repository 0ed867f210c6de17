"""Labels a support team's own history already holds, read from the store.

- router: the team a resolved ticket ended with (its helpdesk group), or the team a person
  re-routed it to, which wins: in the console, or in the helpdesk (an open ticket whose group
  is no longer the one deskwatch wrote);
- escalation: "escalate" when a person escalated the ticket (in the console, or in the
  helpdesk with its escalation tag) or deskwatch escalated it and the escalation stood; "no"
  when a person overrode deskwatch down or rejected its escalation in review, turned it down
  in the helpdesk (removed deskwatch's escalation tag, or put the priority it raised back
  below high), and for resolved tickets nobody escalated;
- tone: messages people labelled (audit kind ``tone_label``), and the customer's last message
  before a satisfaction rating the connectors read (bad: negative, good: positive).

The text of a ticket is its subject and what the customer wrote; for the escalation model, the
signals deskwatch last saw are added as tokens ("sig_sentiment_3"), so one text model reads both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from deskwatch.core.engine.learned import clip
from deskwatch.core.engine.text import new_text
from deskwatch.core.learn.data import Example, normalize_tone
from deskwatch.core.model.timeutil import parse_time

ESCALATING = ("priority", "immediate")
ENGINE = "deskwatch"
# Tags that mark an escalation on helpdesks without a flag: the connectors' escalation_tag
# (default "escalated") and the tag deskwatch adds (core/policy/actions.ESCALATED_TAG).
ESCALATION_TAGS = frozenset({"escalated", "deskwatch-escalated"})
RAISED = ("high", "urgent")


def ticket_text(subject: str | None, customer_bodies: Iterable[str]) -> str:
    """As the engine reads a ticket (deskwatch.core.engine.learned.ticket_text)."""
    return clip("\n".join([subject or "", *customer_bodies]).strip())


def signal_tokens(signals: Iterable[dict[str, Any]]) -> str:
    """Each fired signal as a token with its value in quarters: the model weighs them like words."""
    out = []
    for s in signals:
        value = float(s.get("value") or 0)
        if value > 0:
            out.append(f"sig_{str(s.get('name', '')).replace(':', '_')}_{min(4, int(value * 4) + 1)}")
    return " ".join(out)


def _customer_text(conn: Any, ticket_id: str, subject: str) -> str:
    rows = conn.execute("SELECT body FROM messages WHERE ticket_id = ? AND author = 'customer' ORDER BY seq", (ticket_id,))
    return ticket_text(subject, (r[0] for r in rows))


@dataclass
class Written:
    """What deskwatch's applied write-back set on one ticket (its outbox)."""

    groups: set[str] = field(default_factory=set)
    escalated: bool = False
    tags: set[str] = field(default_factory=set)  # escalation tags it added
    priority: str | None = None  # the priority it raised the ticket to


def written_back(conn: Any) -> dict[str, Written]:
    """Per ticket, what deskwatch's applied updates wrote: a person's later change of it is a label."""
    out: dict[str, Written] = {}
    for tid, payload in conn.execute("SELECT ticket_id, payload FROM outbox WHERE state = 'applied' ORDER BY created_at"):
        u = json.loads(payload)
        w = out.setdefault(tid, Written())
        if u.get("group"):
            w.groups.add(u["group"])
        if u.get("escalated"):
            w.escalated = True
            w.tags |= ESCALATION_TAGS & set(u.get("tags_add") or ())
        if u.get("priority"):
            w.priority = u["priority"]
    return out


def turned_down(w: Written | None, tags: Iterable[str], priority: str | None) -> bool:
    """deskwatch's escalation was undone in the helpdesk: its escalation tag removed, or the
    priority it raised put back below high (Salesforce keeps no tags: the priority tells)."""
    if w is None or not w.escalated:
        return False
    tags = set(tags)
    # A ticket with no tags at all is from a helpdesk whose tags are not read (Salesforce), not
    # one whose tags a person removed: the write left its idempotency marker tag behind too.
    if w.tags and tags and not (w.tags & tags):
        return True
    return w.priority in RAISED and priority not in RAISED


def _facts(data: str) -> tuple[tuple[str, ...], str | None]:
    d = json.loads(data)
    return tuple(d.get("tags") or ()), d.get("priority")


def router_examples(conn: Any) -> list[Example]:
    rerouted: dict[str, str] = {}
    for r in conn.execute("SELECT ticket_id, team FROM decisions WHERE actor != ? AND team IS NOT NULL ORDER BY id", (ENGINE,)):
        rerouted[r[0]] = r[1]
    written = written_back(conn)
    out = []
    rows = conn.execute("SELECT id, subject, grp, updated_at, is_open FROM tickets WHERE deleted = 0 ORDER BY updated_at")
    for tid, subject, grp, updated, is_open in rows.fetchall():
        w = written.get(tid)
        # An open ticket moved out of the group deskwatch wrote: a person re-routed it there.
        moved = grp if is_open and grp and w is not None and w.groups and grp not in w.groups else None
        label = rerouted.get(tid) or moved or (grp if not is_open else None)
        if label:
            out.append(Example(_customer_text(conn, tid, subject), label, parse_time(updated), tid))
    return out


# deskwatch's decision a label is about: its latest escalation if it ever escalated (a solved
# ticket is decided again, to "none", and that must not hide the escalation that stood), else
# its latest decision.
_ESCALATED_FIRST = "d.recommendation IN ('priority', 'immediate') DESC, d.id DESC LIMIT 1"


def escalation_examples(conn: Any) -> list[Example]:
    people: dict[str, str] = {}  # ticket -> the latest recommendation a person set
    for r in conn.execute("SELECT ticket_id, recommendation FROM decisions WHERE actor != ? ORDER BY id", (ENGINE,)):
        people[r[0]] = r[1]
    rejected = {r[0] for r in conn.execute("SELECT ticket_id, data FROM audit WHERE kind = 'feedback'")
                if not json.loads(r[1]).get("accept", True)}
    written = written_back(conn)
    out = []
    rows = conn.execute(
        "SELECT t.id, t.subject, t.updated_at, t.is_open, t.data, "
        f"(SELECT d.recommendation FROM decisions d WHERE d.ticket_id = t.id AND d.actor = ? ORDER BY {_ESCALATED_FIRST}), "
        f"(SELECT d.data FROM decisions d WHERE d.ticket_id = t.id AND d.actor = ? ORDER BY {_ESCALATED_FIRST}) "
        "FROM tickets t WHERE t.deleted = 0 ORDER BY t.updated_at", (ENGINE, ENGINE))
    for tid, subject, updated, is_open, facts, engine_rec, data in rows.fetchall():
        person = people.get(tid)
        tags, priority = _facts(facts)
        w = written.get(tid)
        if person is not None:
            label = "escalate" if person in ESCALATING else "no"
        elif tid in rejected or turned_down(w, tags, priority):
            label = "no"
        elif (w is None or not w.escalated) and ESCALATION_TAGS & set(tags):
            label = "escalate"  # a person escalated it in the helpdesk
        elif engine_rec in ESCALATING:
            label = "escalate"  # deskwatch escalated and nobody turned it down
        elif not is_open:
            label = "no"
        else:
            continue  # still open, nobody has said anything: no label yet
        signals = json.loads(data).get("signals", []) if data else []
        text = _customer_text(conn, tid, subject) + "\n" + signal_tokens(signals)
        out.append(Example(text, label, parse_time(updated), tid))
    return out


def tone_examples(conn: Any) -> list[Example]:
    out = []
    for tid, at, data in conn.execute("SELECT ticket_id, at, data FROM audit WHERE kind = 'tone_label' ORDER BY id"):
        d = json.loads(data)
        label = normalize_tone(str(d.get("label", "")))
        if label and d.get("text"):
            out.append(Example(str(d["text"]), label, parse_time(at), tid))
    return out + rating_examples(conn)


def rating_examples(conn: Any) -> list[Example]:
    """Satisfaction ratings as tone labels: a bad rating says the customer's last message
    before it was negative, a good one positive (neutral where the helpdesk has a middle)."""
    out = []
    rows = conn.execute("SELECT id, updated_at, json_extract(data, '$.satisfaction') FROM tickets "
                        "WHERE deleted = 0 AND json_extract(data, '$.satisfaction') IS NOT NULL ORDER BY updated_at")
    for tid, updated, raw in rows.fetchall():
        rating = json.loads(raw)
        label = normalize_tone(str(rating.get("score", "")))
        if label is None:
            continue
        rated_at = rating.get("at")
        bodies = conn.execute("SELECT body FROM messages WHERE ticket_id = ? AND author = 'customer' AND public = 1 "
                              "AND (? IS NULL OR created_at <= ?) ORDER BY seq DESC LIMIT 1", (tid, rated_at, rated_at)).fetchone()
        text = new_text(bodies[0]) if bodies else ""
        if text.strip():
            out.append(Example(text, label, parse_time(rated_at or updated), tid))
    return out


FROM_STORE = {"router": router_examples, "escalation": escalation_examples, "tone": tone_examples}
