"""Name tables and the settings every connector reads the same way."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from deskwatch.core.connect.kit import NameTable, id_table, read_start_time
from deskwatch.core.model.settings import ConfigError, Section


def test_name_table_resolves_names_both_ways():
    listed = {"Billing": 10, "Tier 2": 20}
    configured = {"Tier 2": 21, "Platform": 30}
    t = NameTable.build(listed, configured)
    assert t.id_for("Tier 2") == 21  # the settings win over the directory
    assert t.id_for("billing") == 10 and t.id_for("BILLING") == 10
    assert t.id_for("12345") == 12345 and t.id_for("12345", numeric=False) is None
    assert t.id_for("Nobody") is None
    assert t.name_for(30) == "Platform" and t.name_for(99) == "99" and t.name_for(None) is None
    assert t.by_id() == {10: "Billing", 21: "Tier 2", 30: "Platform"}
    assert t.knows(None) and t.knows("platform") and t.knows("7") and not t.knows("Nobody")


def test_id_table_reads_name_equals_id():
    s = Section({"groups": {"Billing": 10, "Tier 2": 20}}, "sources.fd", "config.toml")
    assert id_table(s, "groups") == {"Billing": 10, "Tier 2": 20}
    assert id_table(s, "agents") == {}
    with pytest.raises(ConfigError, match=r"sources\.fd\.groups\.Billing"):
        id_table(Section({"groups": {"Billing": "ten"}}, "sources.fd", "config.toml"), "groups")
    with pytest.raises(ConfigError, match=r"sources\.fd\.groups\.Billing"):
        id_table(Section({"groups": {"Billing": 0}}, "sources.fd", "config.toml"), "groups")


def test_read_start_time():
    utc = timezone.utc
    assert read_start_time(Section({}, "sources.x")) is None
    assert read_start_time(Section({"start_time": ""}, "sources.x")) is None
    assert read_start_time(Section({"start_time": "2026-11-01T00:00:00Z"}, "sources.x")) == datetime(2026, 11, 1, tzinfo=utc)
    assert read_start_time(Section({"start_time": date(2026, 11, 1)}, "sources.x")) == datetime(2026, 11, 1, tzinfo=utc)
    assert read_start_time(Section({"start_time": datetime(2026, 11, 1, 8)}, "sources.x")) == datetime(2026, 11, 1, 8, tzinfo=utc)
    with pytest.raises(ConfigError, match=r"sources\.x\.start_time: expected an ISO 8601 time"):
        read_start_time(Section({"start_time": "last monday"}, "sources.x"))
