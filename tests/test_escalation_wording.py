"""Wording the defaults must read right (issue 12 follow-up): quoted errors, intent rather than
topic for churn and legal, refund wordings, past outages and percentage discounts. Every ticket
here is written for this file; none is taken from tests/data/escalation_cases.jsonl."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core import config
from deskwatch.core.engine import DecisionContext, decide
from deskwatch.core.engine.text import PhraseMatcher, new_text, unquote, word_set
from deskwatch.core.model import ticket_from_dict

CFG = config.load(None)
DAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # Monday 11:00 Berlin


def tk(subject: str, *bodies: str, org: dict | None = None):
    created = DAY - timedelta(hours=0.5)
    msgs = [{"author": "customer", "created_at": (created + timedelta(minutes=i)).isoformat(), "body": b}
            for i, b in enumerate(bodies)]
    return ticket_from_dict({"id": "zendesk:7", "subject": subject, "created_at": created.isoformat(),
                             "organization": org or {"name": "Acme", "tier": "business"},
                             "requester": {"email": "pat@acme.example"}, "messages": msgs})


def run(subject: str, *bodies: str):
    return decide(tk(subject, *bodies), CFG, DAY, DecisionContext())


def categories(text: str) -> dict[str, list[str]]:
    return CFG.escalation.trigger_matcher.categories(new_text(text))


# -- 1. quoted words ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, phrase", [
    ("The upload page only shows 'bad gateway' since noon.", "bad gateway"),
    ("Every login attempt ends in 'Service Unavailable' for us.", "service unavailable"),
    ("Your invoice says 'charged twice' next to March.", "charged twice"),
    ("The banner reads \u2018data loss\u2019 and nothing else.", "data loss"),
])
def test_single_quoted_words_are_matched(text, phrase):
    found = [p for ps in categories(text).values() for p in ps]
    assert phrase in found


def test_quote_marks_do_not_break_apostrophes():
    m = PhraseMatcher({"a": ["can't log in", "user"]})
    text = "We can't log in; the 'user' field is greyed out but users' names show."
    assert [h.text for h in m.find(unquote(text))] == ["can't log in", "user", "users"]
    assert {"can't", "user", "users"} <= word_set(unquote(text))
    assert "t" not in word_set("we can't")  # an apostrophe inside a word keeps it whole


def test_unquote_keeps_length_and_contractions():
    text = "it's 'broken' and the customers' data isn't 'there'"
    out = unquote(text)
    assert len(out) == len(text)
    assert out == "it's \"broken\" and the customers' data isn't \"there\""


def test_quoted_error_in_the_subject_is_read():
    d = run("Checkout says 'bad gateway'", "Hi, see subject, happens on every order since this morning.")
    assert d.tier in ("tier2", "tier3")
    assert d.route.team in ("Technical", "Engineering")
