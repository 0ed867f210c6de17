"""Shared builders for the signal tests, and tests of what every signal relies on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from deskwatch.core import config
from deskwatch.core.engine.history import MemoryHistory
from deskwatch.core.model import Message, Organization, Person, Ticket
from deskwatch.core.engine.signals import build_context, make_signal
from deskwatch.core.engine.nlp import SupportLayer, VaderAnalyzer

from .conftest import NOW

CFG = config.load(None)
ESC = CFG.escalation


def mk(
    *bodies: str | tuple[str, str],
    id: str = "zendesk:1",
    subject: str = "Question",
    created: datetime | None = None,
    email: str = "alex@acme.example",
    org: Organization | None = None,
    status: str = "open",
    source: str | None = None,
    channel: str = "email",
    affected_users: int | None = None,
    step: timedelta = timedelta(hours=1),
) -> Ticket:
    """A ticket whose messages are ``bodies``; a plain string is a customer message, a tuple
    is (author, body). Messages are one ``step`` apart, starting at ``created``."""
    created = created or NOW - timedelta(hours=2)
    messages = []
    for i, b in enumerate(bodies):
        author, body = ("customer", b) if isinstance(b, str) else b
        messages.append(Message(author=author, created_at=created + i * step, body=body))
    return Ticket(
        id=id,
        source=source or id.split(":")[0],
        channel=channel,
        subject=subject,
        status=status,
        priority=None,
        created_at=created,
        updated_at=messages[-1].created_at if messages else created,
        messages=tuple(messages),
        requester=Person(id="r1", email=email, name="Alex"),
        organization=org,
        affected_users=affected_users,
    )


def ctx_for(ticket: Ticket, now: datetime = NOW, history=None, sla=None, incidents=None, esc=ESC):
    return build_context(
        ticket, esc, now, analyzer=VaderAnalyzer(), layer=SupportLayer(CFG.nlp),
        history=history if history is not None else MemoryHistory([ticket]), sla=sla, incidents=incidents,
    )


def test_make_signal_clamps_and_computes_contribution():
    s = make_signal("x", 1.7, 20.0, ("a",), "detail")
    assert (s.value, s.contribution) == (1.0, 20.0)
    s = make_signal("x", 0.25, 20.0)
    assert s.contribution == 5.0
    assert make_signal("x", -0.3, 20.0).contribution == 0.0


def test_ticket_text_reads_only_new_customer_words():
    t = mk(
        "The export is broken.\n\nOn Mon, 2 Nov 2026, Sam <sam@x.example> wrote:\n> We will sue you",
        ("agent", "We are looking into the legal question."),
    )
    text = ctx_for(t).text
    assert text.customer == ("The export is broken.",)
    assert "legal" not in text.hits
    assert len(text.readings) == 1


def test_created_at_is_utc_aware():
    assert mk("hi").created_at.tzinfo == timezone.utc
