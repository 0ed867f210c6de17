"""Quoted replies, signatures and negation-aware phrase matching on real-looking mail."""

from __future__ import annotations

import pytest

from deskwatch.core.engine.text import PhraseMatcher, is_negated, keywords, new_text, overlap

CATS = {
    "legal": ["lawyer", "legal action", "legal issue"],
    "security": ["security problem", "data breach", "unauthorized access"],
    "outage": ["outage", "is down"],
    "urgency": ["urgent"],
}
M = PhraseMatcher(CATS)


def test_gmail_quote_is_dropped():
    body = (
        "Still not working after the update.\n\n"
        "On Tue, 17 Nov 2026 at 14:02, Acme Support <support@acme.example> wrote:\n"
        "> Hi Alex, this is a known data breach... just kidding, try restarting.\n"
        "> Our lawyer says hi"
    )
    assert new_text(body) == "Still not working after the update."


def test_wrapped_on_wrote_line_and_outlook_header():
    assert new_text("Fine now.\n\nOn Mon, 2 Nov 2026 at 10:00, Support Team <support@x.com>\nwrote:\n> old") == "Fine now."
    outlook = "Please call me.\n\nFrom: Support <s@x.com>\nSent: Monday, 2 November 2026 10:00\nTo: Alex\nSubject: RE: outage\n\nold text"
    assert new_text(outlook) == "Please call me."
    assert new_text("New text\n-----Original Message-----\nFrom: x\nlawyer") == "New text"


def test_interleaved_quote_lines_are_dropped_but_replies_kept():
    body = "> Did you restart?\nYes, twice.\n> And clear the cache?\nAlso yes, it is still down."
    assert new_text(body) == "Yes, twice.\nAlso yes, it is still down."


@pytest.mark.parametrize(
    "body",
    [
        "It crashes on save.\n\nBest regards,\nAnna Schmidt\nHead of IT, Acme GmbH\n+49 30 123456",
        "It crashes on save.\n\nThanks,\nAnna",
        "It crashes on save.\n-- \nAnna Schmidt | Acme GmbH | legal action is our middle name",
        "It crashes on save.\n\nSent from my iPhone",
    ],
)
def test_signatures_are_cut(body):
    assert new_text(body) == "It crashes on save."


def test_thanks_inside_the_text_is_not_a_signature():
    body = "Thanks,\nthe export works now but the PDF invoices are still missing the VAT number and our auditors need them by Friday."
    assert new_text(body) == body


@pytest.mark.parametrize(
    "text",
    [
        "This is not urgent, just curious.",
        "There is no legal issue here, we only need the invoice.",
        "It isn't a security problem, but the button is misaligned.",
        "The migration ran without any outage.",
        "Don't worry, nothing is down.",
        "We never had a data breach.",
        # a negated opinion verb reaches past the 4-word window, to the end of its clause
        "I don't think this is a security problem, just a typo on the page.",
        "I do not really believe we will need our lawyer for this.",
        "We don't expect that there will be any real outage tonight.",
    ],
)
def test_negated_phrases_do_not_fire(text):
    assert M.find(text) == []


@pytest.mark.parametrize(
    "text, category",
    [
        ("URGENT: production is down", "outage"),
        ("Not sure why, but there is an outage in EU", "outage"),
        ("We are not happy: there was a data breach last night", "security"),
        ("Our LAWYERS have been informed.", "legal"),  # plural, any case
        ("we will take legal\n action", "legal"),  # any whitespace between words
    ],
)
def test_phrases_fire_whole_word_any_case(text, category):
    assert category in M.categories(text)


def test_whole_words_only():
    assert M.find("the outages page is fine") != []  # plural is the same word
    assert M.find("lawyerly prose and routage tables") == []


@pytest.mark.parametrize(
    "text, category",
    [
        # the opinion is negated, but a clause boundary ends its reach
        ("I don't think you understand, this is a data breach.", "security"),
        ("We didn't expect it but the outage is back", "outage"),
        # an opinion verb that is not negated negates nothing
        ("I think this is a security problem.", "security"),
        # a negator far before an ordinary verb still has only the 4-word window
        ("We did not see the error until today and now all of production is down", "outage"),
    ],
)
def test_negated_opinion_stops_at_its_clause(text, category):
    assert category in M.categories(text)


def test_is_negated_window_stops_at_clause_boundary():
    text = "I do not know why, but the outage continues"
    assert not is_negated(text, text.index("outage"))
    text = "there is no real outage"
    assert is_negated(text, text.index("outage"))


def test_keywords_and_overlap():
    a = keywords("Invoice export to CSV fails")
    b = keywords("CSV export of invoices still empty")
    assert {"export", "csv"} <= a & b
    assert overlap(a, b) >= 0.5
    assert overlap(a, keywords("Add a teammate")) == 0.0
