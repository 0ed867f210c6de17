"""Loops: failed fixes, the same agent reply twice, many rounds."""

from __future__ import annotations

from deskwatch.core.engine.signals.loop import loop

from .test_signals_base import ctx_for, mk

CACHE = "Please clear your browser cache and cookies, then try signing in again."


def test_failed_fixes_and_repeated_macro():
    t = mk(
        "SSO sends us back to the login page.",
        ("agent", CACHE),
        "We cleared the cache, it didn't work.",
        ("agent", "Can you check the ACS URL in your identity provider?"),
        "The URL matches. Still broken.",
        ("agent", CACHE + "\n\nBest regards,\nSam"),
        "Same problem.",
    )
    s = loop(t, ctx_for(t))
    assert s is not None and s.value == 1.0
    ev = " | ".join(s.evidence)
    assert "\"didn't work\" after an agent reply" in ev and '"Still broken"' in ev
    assert "same agent reply twice" in ev and "3 back-and-forths" in ev


def test_didnt_work_before_any_agent_reply_is_not_a_loop():
    t = mk("I tried restarting the router but it didn't work, now the app will not sync.")
    assert loop(t, ctx_for(t)) is None


def test_a_normal_exchange_is_not_a_loop():
    t = mk("How do I export to PDF?", ("agent", "Use File > Export > PDF."), "Perfect, thanks!")
    assert loop(t, ctx_for(t)) is None


def test_failure_phrase_in_quoted_text_is_ignored():
    t = mk("Export fails.", ("agent", "Fixed, please retry."), "Works now, thanks!\n\nOn Mon, Alex wrote:\n> it didn't work")
    assert loop(t, ctx_for(t)) is None
