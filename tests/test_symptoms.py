"""The symptom reader: failures as customers describe them, normalized to a few keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.engine import symptoms
from deskwatch.core.engine.symptoms import family, read, report
from deskwatch.core.engine.text import new_text, word_set

from .conftest import NOW


def keys(text: str) -> set[str]:
    return set(read(text).keys)


@pytest.mark.parametrize("text, key", [
    ("Since 09:40 every page of the reports gives us a 500 Internal Server Error.", "http-5xx"),
    ("The browser shows 502 Bad Gateway when we open the dashboard", "http-5xx"),
    ("We keep getting 503s from your servers", "http-5xx"),
    ("Error: 504 on every request", "http-5xx"),
    ("HTTP 500 when saving an order", "http-5xx"),
    ("If I open the dashboard I get a 500 error", "http-5xx"),
    ("the API returns a 502 for every call", "http-5xx"),
    ("Service Unavailable, please try again later is all we see", "http-5xx"),
    ("We can't reach the app at all this morning", "unreachable"),
    ("Our site won't load for any of us", "unreachable"),
    ("The dashboard is not loading, just a blank page", "unreachable"),
    ("Your platform has been unavailable since 08:40", "unreachable"),
    ("Is there an outage? Nothing works", "unreachable"),
    ("checkout fails for all our shoppers since your update", "checkout/payments"),
    ("Our customers cannot complete a purchase", "checkout/payments"),
    ("Card payments are being declined for every order", "checkout/payments"),
    ("Login is broken for everyone at Globex", "login"),
    ("None of our users can log in since 9:00", "login"),
    ("The SSO sign-in keeps failing with an error", "login"),
    ("Every export times out after 30 seconds", "slow/timeouts"),
    ("The dashboard is extremely slow today", "slow/timeouts"),
    ("Our website has significantly slowed down since noon", "slow/timeouts"),
    ("The API is returning errors on every call", "api-errors"),
    ("Webhooks stopped firing after the update", "api-errors"),
    ("Password reset emails never arrive", "email-delivery"),
    ("We are not receiving any emails from your system", "email-delivery"),
    ("After last night's migration every record we created yesterday is gone", "data-missing"),
    ("The mobile app crashes when I open the calendar", "crashes"),
])
def test_failures_are_read_in_their_many_wordings(text, key):
    assert key in keys(text), read(text)


@pytest.mark.parametrize("text", [
    "No 500 errors anymore, thanks for the quick fix!",
    "We don't see any 502 errors since your deploy.",
    "The site is not down, I just have a question about invoices.",
    "I don't think the app is down, probably our VPN.",
    "The 502s are gone now, thanks",
    "It was down this morning but it is back now.",
    "What happens if the site is down during our launch?",
    "Do you have a status page we can check in case the app is down?",
    "We had an outage last month; now I only need a copy of the invoice.",
    "We got 500 new users this week, can you raise our seat limit?",
    "I paid $500 for this plan and want an invoice with our VAT number.",
    "Your support is slow to respond, but the product is great.",
    "How do I export a report to CSV? Not urgent at all.",
    "Please add 503 more seats to our contract.",
    "Could you send me the invoice for the 500 licences?",
])
def test_negated_resolved_hypothetical_and_unrelated_texts_report_nothing(text):
    assert read(text).found == (), read(text)


def test_slowing_down_is_not_going_down():
    assert keys("Our website has significantly slowed down since noon") == {"slow/timeouts"}


def test_the_exact_words_are_kept_as_evidence_and_the_longer_hit_wins():
    found = read("We get HTTP 500 Internal Server Error on every request to the dashboard").found
    assert [(s.key, s.words) for s in found] == [("http-5xx", "HTTP 500 Internal Server Error")]
    assert read("the dashboard shows 502 Bad Gateway").areas == ("dashboard",)


def test_server_errors_unreachable_and_api_failures_are_one_family():
    assert family("http-5xx") == family("unreachable") == family("api-errors")
    assert len({family(k) for k in ("login", "checkout/payments", "slow/timeouts", "email-delivery",
                                    "data-missing", "crashes", "http-5xx")}) == 7
    got = read("We can't reach the app and the API gives 502 Bad Gateway")
    assert got.families == {"outage"}
    assert got.words("outage") == ("can't reach", "502 Bad Gateway")
    assert got.keys == {"unreachable", "http-5xx"} and got.areas == ("api", "app")


def test_quoted_text_and_signatures_are_not_read_when_given_new_text():
    body = ("Thanks, all good now.\n\nBest regards,\nAnn\n\nOn Mon, 23 Nov 2026, Support <s@x.example> wrote:\n"
            "> Are you still getting the 500 Internal Server Error?")
    assert read(new_text(body)).found == ()


def msg(minutes: int, text: str):
    return (NOW + timedelta(minutes=minutes), text, word_set(text))


def test_a_ticket_report_is_dated_by_the_latest_message_that_names_the_failure():
    r = report("Question about our plan", NOW, [msg(0, "Hi, what does the pro plan include?"),
                                                msg(30, "Also: since 10 minutes we get 502 Bad Gateway everywhere")])
    assert r is not None and r.at == NOW + timedelta(minutes=30) and r.symptoms.keys == {"http-5xx"}
    from_subject = report("Site down!", NOW, [msg(2, "Please help asap")])
    assert from_subject is not None and from_subject.at == NOW and from_subject.symptoms.keys == {"unreachable"}


def test_a_later_message_saying_it_works_again_ends_the_report():
    assert report("Help", NOW, [msg(0, "The app won't load at all"), msg(40, "It works again, thanks!")]) is None
    # a question is not a statement that it works
    asked = report("Help", NOW, [msg(0, "The app won't load at all"), msg(40, "Is it fixed yet?")])
    assert asked is not None and asked.at == NOW
    assert report("Invoice", NOW, [msg(0, "Please resend the invoice")]) is None


def test_keys_are_the_documented_set():
    assert set(symptoms.KEYS) >= {"http-5xx", "unreachable", "login", "checkout/payments", "slow/timeouts",
                                  "api-errors", "email-delivery", "data-missing"}
