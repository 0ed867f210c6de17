"""The SLA signal as a function of SlaStatus."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.model import SlaStatus, SlaTarget
from deskwatch.core.engine.signals.sla import sla, sla_signal, sla_value

from .conftest import NOW
from .test_signals_base import ctx_for, mk


def status(*targets):
    return SlaStatus("enterprise", tuple(targets))


def target(name, state, pct, due=NOW + timedelta(minutes=30)):
    return SlaTarget(name=name, due_at=due, elapsed_pct=pct, state=state, minutes=60)


def test_none_and_ok_do_not_fire():
    assert sla_signal(None, 35) is None
    assert sla_signal(status(target("first_response", "ok", 40), target("resolution", "met", 100)), 35) is None


def test_warning_scales_with_elapsed_share():
    a = sla_value(status(target("first_response", "warning", 75)))
    b = sla_value(status(target("first_response", "warning", 88)))
    assert 0 < a < b < 1


def test_breach_fires_fully_with_due_time():
    st = status(target("next_response", "warning", 90), target("first_response", "breached", 130, due=NOW - timedelta(minutes=18)))
    s = sla_signal(st, 35)
    assert s.value == 1.0 and s.contribution == 35
    assert s.evidence[0] == "first response was due 2026-11-23T09:42:00Z"
    assert "breached" in s.detail


def test_reads_status_from_context():
    t = mk("Hello")
    assert sla(t, ctx_for(t, sla=status(target("first_response", "breached", 120)))).value == 1.0
    assert sla(t, ctx_for(t)) is None
