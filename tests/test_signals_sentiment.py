"""Sentiment level and trajectory, on what customers actually write."""

from __future__ import annotations

from deskwatch.core.engine.signals import sentiment as sentiment_mod

from .test_signals_base import ctx_for, mk

POLITE_OUTAGE = (
    "Hi team,\n\nhope you are well. Since 08:40 UTC our production workspace returns 502 errors and none of our "
    "users can log in. Could you please take a look when you get a chance?\n\nMany thanks,\nPriya"
)
FURIOUS = (
    "This is the THIRD TIME I am writing. Still waiting for a response. Your product is garbage and your support "
    "is useless. Unacceptable!!!"
)


def run(t):
    return sentiment_mod.sentiment(t, ctx_for(t)), sentiment_mod.trajectory(t, ctx_for(t))


def test_polite_message_does_not_fire_even_about_an_outage():
    level, traj = run(mk(POLITE_OUTAGE))
    assert level is None and traj is None


def test_furious_message_fires_strongly_with_evidence():
    level, _ = run(mk(FURIOUS))
    assert level is not None and level.value >= 0.8
    ev = " ".join(level.evidence).lower()
    assert '"still waiting"' in ev and "unacceptable" in ev and "!!!" in ev and "all caps" in ev
    assert level.contribution == level.value * level.weight


def test_neutral_complaint_phrasing_is_caught_by_the_support_layer():
    # VADER alone reads this as neutral; the support layer knows what "still waiting" means.
    level, _ = run(mk("Still waiting on my refund, no response to my last two emails."))
    assert level is not None
    assert '"Still waiting"' in level.evidence and '"no response"' in level.evidence


def test_angry_words_in_a_quoted_reply_do_not_count():
    t = mk("Thanks, that fixed it!\n\nOn Mon, Alex wrote:\n> This is UNACCEPTABLE, useless garbage!!!")
    level, _ = run(t)
    assert level is None


def test_signature_slogans_do_not_count():
    t = mk("Could you resend the invoice for October?\n-- \nAlex | Acme | We HATE downtime!!!")
    assert run(t)[0] is None


def test_trajectory_from_friendly_to_furious():
    t = mk(
        "Hi! Quick question, the CSV export seems to skip some rows. Thanks a lot!",
        ("agent", "Thanks, we are looking into it."),
        "It has been three days. This is unacceptable, nobody has replied and my boss is furious.",
    )
    level, traj = run(t)
    assert traj is not None and traj.value > 0.5
    assert traj.evidence[0].startswith("first message +")
    assert level is not None


def test_calming_down_does_not_fire_trajectory():
    t = mk("This is a disaster, nothing works!!", ("agent", "Fixed now."), "Great, works perfectly now, thank you!")
    level, traj = run(t)
    assert traj is None and level is None
