"""Lenient organization fields: unreadable values are dropped with a warning naming record and field."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest

from deskwatch.core.connect.kit import OrgFieldReader, calendar_date, field_value, health, number, organization
from deskwatch.core.model import Organization


@pytest.mark.parametrize(
    ("value", "expected"),
    [(120000, 120000.0), (1.5, 1.5), ("120000", 120000.0), ("$120,000.50", 120000.5), ("€ 1 250 000", 1250000.0),
     ("1_000", 1000.0), ("n/a", None), ("", None), (None, None), (True, None), ("nan", None), ("inf", None), ([1], None)],
)
def test_number(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.42, 0.42), (0, 0.0), (1, 1.0), (42, 0.42), ("80", 0.8), (100, 1.0), (150, None), (-3, None), ("n/a", None), (None, None)],
)
def test_health_fraction_or_percent(value, expected):
    assert health(value) == (pytest.approx(expected) if expected is not None else None)


def test_health_words_are_case_insensitive():
    words = {"At risk": 0.2, "happy": 0.9}
    assert health("at RISK ", words) == 0.2 and health("Happy", words) == 0.9
    assert health("grumpy", words) is None and health(55, words) == pytest.approx(0.55)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-12-31", date(2026, 12, 31)), ("2027-01-31T00:00:00Z", date(2027, 1, 31)), (date(2027, 3, 1), date(2027, 3, 1)),
     (datetime(2027, 3, 1, 12, tzinfo=timezone.utc), date(2027, 3, 1)), ("soon", None), ("2026-13-40", None), (20261231, None), ("", None)],
)
def test_calendar_date(value, expected):
    assert calendar_date(value) == expected


def test_reader_drops_unreadable_values_with_one_warning_each(caplog):
    read = OrgFieldReader("Account 001A (Case 500B)")
    with caplog.at_level(logging.WARNING, logger="deskwatch.core.connect.kit"):
        assert read.number("AnnualRevenue", "n/a") is None
        assert read.health("Health__c", 150) is None
        assert read.date("Renewal__c", "next spring") is None
        assert read.number("AnnualRevenue", "$5,000") == 5000.0  # readable: no warning
        assert read.health("Health__c", None) is None and read.date("Renewal__c", "") is None  # empty: no warning
    messages = [r.getMessage() for r in caplog.records]
    assert read.dropped == ["AnnualRevenue", "Health__c", "Renewal__c"]
    assert len(messages) == 3 and all(m.startswith("Account 001A (Case 500B): ") for m in messages)
    assert 'AnnualRevenue is the string "n/a", not a number' in messages[0]
    assert "Health__c is the number 150, not a score between 0 and 1 (or 0..100)" in messages[1]
    assert 'Renewal__c is the string "next spring", not a date such as 2026-12-31' in messages[2]


def test_reader_names_the_accepted_words_and_logs_to_the_given_logger(caplog):
    log = logging.getLogger("deskwatch.plugins.test")
    read = OrgFieldReader("company 5", log)
    with caplog.at_level(logging.WARNING, logger="deskwatch.plugins.test"):
        assert read.health("health_score", "meh", {"at risk": 0.2, "happy": 0.9}) is None
    assert caplog.records[0].name == "deskwatch.plugins.test"
    assert '"at risk", "happy"' in caplog.records[0].getMessage()


def test_field_value_paths_and_fallback():
    company = {"name": "Initech", "custom_fields": {"arr": 5000, "tier": "gold"}, "parent": {"tier": "platinum"}}
    assert field_value(company, "custom_fields.arr") == 5000
    assert field_value(company, "parent.tier") == "platinum"
    assert field_value(company, "tier") is None
    assert field_value(company, "tier", fallback="custom_fields") == "gold"
    assert field_value(company, "name.first") is None and field_value(company, "missing.deep") is None


def test_organization_reads_configured_fields_leniently(caplog):
    account = {"Revenue": "$1,200,000", "Tier": " Enterprise ", "Renewal": "2027-01-31", "Health": 150}
    with caplog.at_level(logging.WARNING, logger="deskwatch.core.connect.kit"):
        org = organization(account, "001A", label="Account 001A", name="Globex", value="Revenue", tier="Tier",
                           renewal="Renewal", health="Health")
    assert org == Organization(id="001A", name="Globex", annual_value=1200000.0, tier="Enterprise", renewal_date=date(2027, 1, 31), health=None)
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["Account 001A"]
    assert "Health is the number 150" in caplog.text
    # fields that are not configured are not read at all
    assert organization(account, "001A", label="x") == Organization(id="001A")
    assert organization({"Tier": ""}, None, label="x", tier="Tier").tier is None
