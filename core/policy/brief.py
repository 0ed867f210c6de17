"""The handoff brief: what the person receiving an escalation needs, readable in under a minute.

Pure text composition (no I/O, no clock: ``now`` is passed in). ``build_brief`` takes the
ticket, its decision, the customer's other tickets and similar solved cases as data and returns
a ``Brief`` of short sections; ``render_text``, ``render_html`` and ``brief_to_dict`` write it
for helpdesks taking plain text, helpdesks taking HTML (everything escaped) and JSON readers.

The ask is extractive: only sentences the customer wrote, quoted as written (a long one is cut
with an ellipsis), never a paraphrase presented as theirs. Agent steps are quoted as the
agent's. HTML bodies are turned into text first, quoted threads and signatures dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol, Sequence

from deskwatch.core.model import CLOSED_STATUSES, Decision, Message, Ticket
from deskwatch.core.policy.htmltext import first_sentences, readable, sentences, strip_quoted

MAX_ASK = 4
MAX_TRIED = 4
MAX_HISTORY = 4
MAX_SIGNALS = 3
MAX_SIMILAR = 3
MAX_QUOTE = 160  # characters of one quoted sentence
RELATED_DAYS = 30

_REQUEST = re.compile(
    r"\b(?:please|pls|can you|could you|would you|can i|could i|how (?:do|can|to)|need|needs|want|would like|help|asap|urgent"
    r"|refund|cancel|fix|restore|resolve|escalate|expect|waiting|when will)\b|\?",
    re.IGNORECASE,
)
_SYMPTOM = re.compile(
    r"\b(?:error|errors|fail|fails|failed|failing|failure|not working|doesn'?t work|does not work|isn'?t working|won'?t|can'?t|cannot"
    r"|unable|broken|down|outage|crash\w*|wrong|missing|lost|charged|declined|blocked|locked|stuck|timeout|timed out|slow"
    r"|still|again|no longer|keeps?|denied|bug|issue|problem|\d{3})\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|thanks?|thank you|many thanks|best|regards|kind regards|cheers)\b[^.!?]{0,40}[.!?,]?$",
    re.IGNORECASE,
)
_STEP = re.compile(
    r"\b(?:try|tried|please (?:clear|restart|reset|reinstall|update|check|log|sign|disable|enable|remove|re-?add|send|confirm)"
    r"|clear(?:ed)?|restart(?:ed)?|reboot(?:ed)?|reset|reinstall(?:ed)?|re-?enable(?:d)?|disable(?:d)?|update(?:d)?|upgrade(?:d)?"
    r"|log (?:out|in)|sign (?:out|in)|cache|cookies|incognito|another browser|workaround|we(?:'ve| have) (?:\w+ ){0,2}(?:applied|pushed|rolled|changed|reset|refunded|reissued))\b",
    re.IGNORECASE,
)
_OUTCOME = re.compile(
    r"\b(?:still|same|didn'?t|did not|doesn'?t|does not|no luck|no change|nothing|worked|works|working|fixed|solved|resolved"
    r"|failing|fails|failed|error|again|better|gone)\b",
    re.IGNORECASE,
)
_HEATED = re.compile(
    r"\b(?:unacceptable|ridiculous|outrageous|furious|angry|disappointed|frustrat\w*|worst|terrible|awful|joke|cancel\w*|lawyer|legal"
    r"|refund|escalate|manager|never again|fed up|seriously)\b|!{1,}",
    re.IGNORECASE,
)


class SimilarLike(Protocol):
    """A similar solved ticket as the store's search returns it (``SimilarCase``)."""

    ticket_id: str
    subject: str
    resolution: str

    @property
    def took(self) -> timedelta: ...


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Brief:
    """A handoff brief: a headline and short sections, in reading order."""

    ticket_id: str
    headline: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)


# -- small helpers ---------------------------------------------------------------------------------


Cleaner = Callable[[str], str]  # body text -> what its author newly wrote


def message_text(m: Message, clean: Cleaner = strip_quoted) -> str:
    """What the author newly wrote in ``m``: HTML as text, then ``clean`` (quoted thread and
    signature dropped; callers that may use the engine pass its ``new_text``)."""
    return clean(readable(m.body))


def _clip(text: str, limit: int = MAX_QUOTE) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _quote(text: str, limit: int = MAX_QUOTE) -> str:
    return "\u201c" + _clip(text, limit) + "\u201d"


def _when(dt: datetime) -> str:
    return dt.strftime("%b %d %H:%M")


def _ago(delta: timedelta) -> str:
    """A duration in the largest sensible unit: 45 min, 3 h, 2 d."""
    mins = int(abs(delta.total_seconds()) // 60)
    if mins < 90:
        return f"{mins} min"
    if mins < 48 * 60:
        return f"{round(mins / 60)} h"
    return f"{round(mins / 1440)} d"


def _money(v: float) -> str:
    return f"${v / 1000:,.0f}k" if v >= 10_000 else f"${v:,.0f}"


def _more(lines: list[str], cap: int, what: str) -> list[str]:
    return lines if len(lines) <= cap else lines[:cap] + [f"(and {len(lines) - cap} more {what})"]


# -- sections --------------------------------------------------------------------------------------


def _customer_sentences(ticket: Ticket, clean: Cleaner) -> list[tuple[int, int, str]]:
    """(message index, sentence index, sentence) of every sentence customers wrote in public."""
    out = []
    for mi, m in enumerate(ticket.messages):
        if m.author != "customer" or not m.public:
            continue
        for si, s in enumerate(sentences(message_text(m, clean))):
            if not _GREETING.match(s) and len(s.split()) >= 3:
                out.append((mi, si, s))
    return out


def the_ask(ticket: Ticket, cap: int = MAX_ASK, clean: Cleaner = strip_quoted) -> list[str]:
    """The customer's own sentences that carry the request and the symptom, in thread order.

    Sentences are scored by request and symptom cues; the first message (the original ask) and
    the latest one (where things stand) are preferred among equals. Nothing scores: the first
    sentences of the first message. Each line is a verbatim quote, cut only with an ellipsis.
    """
    found = _customer_sentences(ticket, clean)
    if not found:
        return []
    first, last = found[0][0], found[-1][0]

    def score(item: tuple[int, int, str]) -> float:
        mi, si, s = item
        cues = 2 * bool(_REQUEST.search(s)) + 2 * bool(_SYMPTOM.search(s))
        return cues + 0.5 * (mi in (first, last)) - 0.05 * si

    picked = [it for it in sorted(found, key=score, reverse=True) if score(it) >= 2][:cap]
    if not picked:
        picked = [it for it in found if it[0] == first][:2]
    picked.sort(key=lambda it: (it[0], it[1]))
    multi = len({it[0] for it in picked}) > 1
    return [(f"{_when(ticket.messages[mi].created_at)}: " if multi else "") + _quote(s) for mi, _, s in picked]


# What deskwatch writes into its own private notes: the handoff headline, the brief's section
# titles, the signature of a note typed in the console.
_OWN_NOTE = re.compile(r"deskwatch escalated this ticket|THE ASK \(CUSTOMER'S WORDS\)|\(via deskwatch\)|"
                       r"Recommendation overridden by |deskwatch: acknowledged")


def _from_deskwatch(body: str) -> bool:
    return bool(_OWN_NOTE.search(body or ""))


def what_was_tried(ticket: Ticket, cap: int = MAX_TRIED, clean: Cleaner = strip_quoted) -> list[str]:
    """Troubleshooting steps from agent messages, each with what the customer said next."""
    out = []
    msgs = ticket.messages
    for i, m in enumerate(msgs):
        if m.author != "agent" or (not m.public and _from_deskwatch(m.body)):
            continue  # deskwatch's own notes (an earlier brief quotes the steps again) are not steps
        steps = [s for s in sentences(message_text(m, clean)) if _STEP.search(s)]
        if not steps:
            continue
        step = _quote(" ".join(steps[:2]), 110)
        if not m.public:  # the customer never saw an internal note, so nothing they said answers it
            out.append(f"agent note (internal): {step}")
            continue
        reply = next((r for r in msgs[i + 1 :] if r.author == "customer" and r.public), None)
        outcome = "no reply from the customer yet"
        if reply is not None:
            said = [s for s in sentences(message_text(reply, clean)) if not _GREETING.match(s)]
            best = next((s for s in said if _OUTCOME.search(s)), said[0] if said else None)
            outcome = f"customer: {_quote(best, 100)}" if best else "customer replied without saying"
        out.append(f"agent: {step} -> {outcome}")
    return _more(out, cap, "steps")


def _health(h: float) -> str:
    label = "at risk" if h < 0.4 else "watch" if h < 0.7 else "healthy"
    return f"{label} ({h:.2f})"


def customer_and_account(ticket: Ticket, related: Sequence[Ticket], *, now: datetime, days: int = RELATED_DAYS,
                         cap: int = MAX_HISTORY, clean: Cleaner = strip_quoted) -> list[str]:
    """Who the customer is, their account, and their other tickets of the last ``days`` days."""
    lines = []
    r, o = ticket.requester, ticket.organization
    if r is not None and (r.name or r.email):
        lines.append("Person: " + " ".join(p for p in (r.name, f"<{r.email}>" if r.email else None) if p))
    if o is not None:
        parts = [o.name or o.id or "unnamed organization"]
        if o.tier:
            parts.append(f"tier {o.tier}")
        if o.annual_value is not None:
            parts.append(f"{_money(o.annual_value)}/year")
        if o.renewal_date is not None:
            left = (o.renewal_date - now.date()).days
            parts.append(f"renews {o.renewal_date.isoformat()} ({'in ' + str(left) + ' d' if left >= 0 else str(-left) + ' d ago'})")
        if o.health is not None:
            parts.append(f"health {_health(o.health)}")
        lines.append("Account: " + ", ".join(parts))
    since = now - timedelta(days=days)
    others = sorted((t for t in related if t.id != ticket.id and t.created_at >= since), key=lambda t: t.created_at, reverse=True)
    hist = []
    for t in others:
        state = t.status
        outcome = ""
        if t.status in CLOSED_STATUSES:
            replies = (message_text(m, clean) for m in reversed(t.messages) if m.author == "agent" and m.public)
            reply = next((r for r in replies if r), "")
            outcome = f" - resolved: {_quote(first_sentences(reply, 1, 90), 90)}" if reply else ""
        hist.append(f"{t.id} ({t.created_at.strftime('%b %d')}, {state}): {_quote(t.subject, 60)}{outcome}")
    if hist:
        lines.append(f"Other tickets, last {days} days:")
        lines += ["- " + h for h in _more(hist, cap, "tickets")]
    else:
        lines.append(f"No other tickets in the last {days} days.")
    return lines


def _mood(tone: float) -> str:
    if tone <= -0.5:
        return "angry"
    if tone <= -0.15:
        return "frustrated"
    if tone < 0.2:
        return "neutral"
    return "positive"


def sentiment_trajectory(ticket: Ticket, decision: Decision | None, clean: Cleaner = strip_quoted) -> list[str]:
    """The customer's tone over their messages in words, with a quote from the latest one."""
    tones = tuple(decision.tones) if decision is not None else ()
    if not tones:
        return ["no tone reading (not decided yet, or no customer messages)"]
    runs: list[list[Any]] = []
    for t in tones:
        mood = _mood(t)
        if runs and runs[-1][0] == mood:
            runs[-1][1] += 1
        else:
            runs.append([mood, 1])
    words = ", then ".join(m + (f" over {n} messages" if n > 1 else "") for m, n in runs)
    if len(tones) > 1 and abs(tones[-1] - tones[0]) >= 0.2:
        words += "; " + ("worsening" if tones[-1] < tones[0] else "improving")
    texts = (message_text(m, clean) for m in reversed(ticket.messages) if m.author == "customer" and m.public)
    latest = next((t for t in texts if t), None)
    if latest is not None:
        said = [s for s in sentences(latest) if not _GREETING.match(s)]
        pick = next((s for s in said if _HEATED.search(s)), said[0] if said else None)
        if pick:
            words += f"; latest: {_quote(pick, 100)}"
    return [words]


def sla_lines(decision: Decision | None, *, now: datetime) -> list[str]:
    """Which SLA targets are open, when they are due or how late they are; the most pressing first."""
    if decision is None or decision.sla is None:
        return ["no SLA policy applies"]
    order = ("breached", "warning", "ok", "paused", "met")
    targets = sorted(decision.sla.targets, key=lambda t: (order.index(t.state) if t.state in order else 9, t.due_at or now))
    out = []
    for t in targets:
        name = t.name.replace("_", " ")
        kind = "business" if t.business else "calendar"
        if t.state == "met":
            continue
        if t.state == "paused":
            out.append(f"{name}: paused (waiting on the customer)")
        elif t.due_at is None:
            out.append(f"{name}: {t.state}")
        elif t.due_at <= now or t.state == "breached":
            out.append(f"{name}: BREACHED, {_ago(now - t.due_at)} late (due {_when(t.due_at)} UTC, {t.minutes} {kind} min target)")
        else:
            out.append(f"{name}: {t.state}, due in {_ago(t.due_at - now)} ({_when(t.due_at)} UTC, {t.elapsed_pct:.0f}% used)")
    if not out:
        return [f"{decision.sla.policy}: all targets met"]
    return [f"policy {decision.sla.policy}"] + out[:2]


def _management(decision: Decision) -> Any:
    # Added by the "decisions people trust" work: on the decision or on its route; absent before.
    m = getattr(decision, "management", None)
    if m is None and decision.route is not None:
        m = getattr(decision.route, "management", None)
    return m


def why_and_where(decision: Decision | None, cap: int = MAX_SIGNALS) -> list[str]:
    """Functional and/or management escalation, team, agent, who was paged, top signals with evidence."""
    if decision is None:
        return ["not decided yet: run the daemon or `deskwatch score` on this ticket"]
    route = decision.route
    team = (route.team if route else None) or decision.team
    agent = route.agent if route else None
    kinds = []
    if decision.recommendation in ("priority", "immediate") or decision.tier not in ("tier0", "tier1"):
        kinds.append("functional")
    mgmt = _management(decision)
    if mgmt or decision.tier == "management":
        kinds.append("management")
    where = decision.tier + (f", team {team}" if team else "") + (f", agent {agent}" if agent else "")
    lines = [
        f"{' + '.join(kinds) or 'no'} escalation: {decision.recommendation} (score {decision.score:.0f}/100, "
        f"confidence {decision.confidence:.0%}) -> {where}"
    ]
    if route is not None and route.reason:
        lines.append(f"route: {_clip(route.reason, 200)}" + (f" (chain {route.chain}, step {route.chain_step})" if route.chain else ""))
    if isinstance(mgmt, dict):
        reasons = [str(r) for r in (mgmt.get("reasons") or ())][:2]
        evidence = [str(e) for e in (mgmt.get("evidence") or ())][:2]
        if reasons:
            lines.append("management: " + "; ".join(reasons) + (f" (evidence: {', '.join(evidence)})" if evidence else ""))
    paged = getattr(decision, "page", None)
    if paged:
        reason = getattr(decision, "page_reason", None)
        who = agent if route is not None and route.on_call and agent else "on-call"
        lines.append(f"paged: {who}" + (f" ({reason})" if reason else ""))
    elif route is not None and route.on_call:
        lines.append(f"on call: {agent or team or 'the rotation'}")
    top = sorted((s for s in decision.signals if s.contribution > 0), key=lambda s: -s.contribution)[:cap]
    for s in top:
        # Evidence often arrives quoted already ('"cannot sign in"'): quote it once.
        evidence = ", ".join(_quote(e.strip('"\u201c\u201d '), 50) for e in s.evidence[:2])
        lines.append(f"- {s.name} (+{s.contribution:.0f}): {s.detail or s.name}" + (f"; evidence {evidence}" if evidence else ""))
    return lines


def similar_lines(similar: Iterable[SimilarLike], cap: int = MAX_SIMILAR) -> list[str]:
    """The top similar solved tickets: subject, how long it took, how it was resolved."""
    out = []
    for c in list(similar)[:cap]:
        res = f" - resolved: {_quote(c.resolution, 140)}" if c.resolution else ""
        out.append(f"{c.ticket_id} {_quote(c.subject, 60)}, took {_ago(c.took)}{res}")
    return out or ["none found"]


# -- the brief -------------------------------------------------------------------------------------


def _unrepeated(lines: list[str], ask: Sequence[str]) -> list[str]:
    """The sentiment line without its closing quote when the ask already quotes that sentence
    (one sentence read three times makes the brief longer, not clearer)."""
    out = []
    for line in lines:
        head, sep, quote = line.rpartition("; latest: ")
        out.append(head if sep and any(quote in a for a in ask) else line)
    return out


def build_brief(
    ticket: Ticket, decision: Decision | None, *, now: datetime, related: Sequence[Ticket] = (),
    similar: Sequence[SimilarLike] = (), related_days: int = RELATED_DAYS, clean: Cleaner = strip_quoted,
) -> Brief:
    """The handoff brief for ``ticket``: the ask, what was tried, customer and account, sentiment,
    SLA, why and where, similar solved tickets. ``related`` are the customer's other tickets
    (any helpdesk); ``similar`` the store's search results, best first; ``clean`` cuts quoted
    threads and signatures from a message's text (the engine's ``new_text`` is the thorough one)."""
    head = f"{ticket.id}: {_quote(ticket.subject, 80)}"
    if decision is not None:
        head += f" - {decision.recommendation}, score {decision.score:.0f}/100"
    if ticket.url:
        head += f" - {ticket.url}"
    ask = the_ask(ticket, clean=clean)
    sections = (
        Section("The ask (customer's words)", tuple(ask) or ("(no customer message)",)),
        Section("What has been tried", tuple(what_was_tried(ticket, clean=clean)) or ("nothing recorded in the thread",)),
        Section("Customer and account", tuple(customer_and_account(ticket, related, now=now, days=related_days, clean=clean))),
        Section("Sentiment", tuple(_unrepeated(sentiment_trajectory(ticket, decision, clean), ask))),
        Section("SLA", tuple(sla_lines(decision, now=now))),
        Section("Why and where", tuple(why_and_where(decision))),
        Section("Similar solved tickets", tuple(similar_lines(similar))),
    )
    return Brief(ticket.id, head, sections)


def render_text(brief: Brief) -> str:
    """The brief as plain text, for helpdesks whose notes are text."""
    out = [f"deskwatch brief - {brief.headline}"]
    for s in brief.sections:
        out.append("")
        out.append(s.title.upper())
        out += [f"  {line}" for line in s.lines]
    return "\n".join(out)


def render_note(brief: Brief, first_line: str) -> str:
    """The brief as a helpdesk note: ``first_line`` (what deskwatch decided, which marks the
    note as deskwatch's and keeps it the first line for ``HANDOFF_PREFIX``), the headline, then
    the sections."""
    lines = [first_line, brief.headline]
    for s in brief.sections:
        lines += ["", s.title.upper(), *(f"  {line}" for line in s.lines)]
    return "\n".join(lines)


def render_html(brief: Brief) -> str:
    """The brief as HTML for helpdesks whose notes are HTML: every piece of text escaped."""
    esc = html.escape
    out = [f"<p><b>deskwatch brief</b> - {esc(brief.headline)}</p>"]
    for s in brief.sections:
        items = "".join(f"<li>{esc(line.lstrip('- ').strip())}</li>" for line in s.lines)
        out.append(f"<p><b>{esc(s.title)}</b></p><ul>{items}</ul>")
    return "\n".join(out)


def brief_to_dict(brief: Brief) -> dict[str, Any]:
    """The brief as JSON-ready data."""
    return asdict(brief)

