"""Account value, tier, renewal and health."""

from __future__ import annotations

from datetime import date

from deskwatch.core.model import Organization
from deskwatch.core.engine.signals.account import account

from .test_signals_base import ctx_for, mk


def sig(org):
    t = mk("Reports are slow.", org=org)
    return account(t, ctx_for(t))


def test_no_organization_no_signal():
    assert sig(None) is None


def test_free_healthy_account_does_not_fire():
    assert sig(Organization(name="Hobby", tier="free", health=0.9)) is None


def test_big_enterprise_renewing_soon_with_low_health_fires_fully():
    s = sig(Organization(name="Harbor Bank", annual_value=240000, tier="Enterprise", renewal_date=date(2026, 12, 3), health=0.1))
    assert s.value > 0.9
    assert "annual value 240,000" in s.evidence and "tier Enterprise" in s.evidence
    assert any(e.startswith("renews 2026-12-03 (in 10 days)") for e in s.evidence)
    assert "health 0.10" in s.evidence


def test_renewal_far_away_does_not_add_risk():
    near = sig(Organization(annual_value=50000, renewal_date=date(2026, 12, 20)))
    far = sig(Organization(annual_value=50000, renewal_date=date(2027, 9, 1)))
    assert near.value > far.value


def test_unknown_tier_is_ignored_not_an_error():
    s = sig(Organization(annual_value=100000, tier="platinum-plus"))
    assert s.value == 0.5 and not any("tier" in e for e in s.evidence)
