"""Hostile input never loses the run: `deskwatch score` reports each bad line as ``line N:
reason`` and scores the others; `deskwatch config check` names every bad key and exits 2."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.model import TicketError, ticket_from_dict
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.policy.calendar import CalendarError, add_business_minutes, business_minutes_between, in_business_hours

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "tickets.jsonl"
NOW = "2026-11-23T10:00:00Z"
GOOD = json.loads(EXAMPLES.read_text().splitlines()[1])  # zendesk:5002, the README's example


def _ticket(**changes) -> dict:
    t = json.loads(json.dumps(GOOD))
    t.update(changes)
    return t


def _dated(year: int) -> str:
    when = f"{year:04d}-06-01T10:00:00Z"
    t = _ticket(id=f"y{year}", created_at=when, updated_at=when)
    t["messages"] = [dict(m, created_at=when) for m in t["messages"]]
    return json.dumps(t)


HOSTILE = {
    "year 9999": (_dated(9999), "created_at: year 9999 is outside 1970-2200"),
    "year 1": (_dated(1), "created_at: year 1 is outside 1970-2200"),
    "nested brackets": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "5,000 digits": ('{"id": "d", "affected_users": ' + "9" * 5000 + ', "messages": []}', "too many digits"),
    "lone surrogate id": (json.dumps(_ticket(id="zendesk:\ud800")), "id: contains an unpaired UTF-16 surrogate"),
    "NaN value": (json.dumps(_ticket(id="n", organization={"annual_value": float("nan")})),
                  "organization.annual_value: expected a number, got nan"),
    "Infinity health": ('{"id": "i", "created_at": "2026-11-23T09:00:00Z", "messages": [], '
                        '"organization": {"health": -Infinity}}', "organization.health: expected a number, got -inf"),
    "1e999": ('{"id": "e", "created_at": "2026-11-23T09:00:00Z", "messages": [], '
              '"organization": {"annual_value": 1e999}}', "organization.annual_value: expected a number, got inf"),
    "object id": (json.dumps(_ticket(id={"a": 1})), 'id: expected a string such as "zendesk:123", got an object'),
    "quoted boolean": (json.dumps(_ticket(id="q", messages=[dict(GOOD["messages"][0], public="false")])),
                       "messages[0].public: expected true or false"),
    "huge user count": (json.dumps(_ticket(id="u", affected_users=10**30)), "affected_users:"),
    "renewal in year 1": (json.dumps(_ticket(id="r", organization={"renewal_date": "0001-01-01"})),
                          "organization.renewal_date: year 1 is outside"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_line_is_reported_and_the_others_scored(name, tmp_path, capsys):
    line, reason = HOSTILE[name]
    lines = EXAMPLES.read_text().splitlines()
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join([lines[0], line, lines[2]]) + "\n", encoding="utf-8", errors="surrogatepass")
    assert main(["score", "--now", NOW, str(f)]) == 1
    out, err = capsys.readouterr()
    ids = [json.loads(x)["ticket_id"] for x in out.splitlines()]
    assert ids == [json.loads(lines[0])["id"], json.loads(lines[2])["id"]]
    assert err.count("\n") == 1 and err.startswith("line 2: ") and reason in err, err


def test_a_10000_line_file_with_hostile_lines_scores_every_good_line(tmp_path, capsys):
    bad_at = {1234: "nested brackets", 2500: "year 9999", 5000: "lone surrogate id", 7777: "5,000 digits",
              9999: "object id"}
    examples = [json.loads(x) for x in EXAMPLES.read_text().splitlines()]
    out_lines = []
    for n in range(1, 10_001):
        if n in bad_at:
            out_lines.append(HOSTILE[bad_at[n]][0])
            continue
        # the examples over and over, each time from other customers, as in a real backlog
        t = dict(examples[n % len(examples)], id=f"t:{n}", requester={"id": f"r{n}", "email": f"u{n}@c{n}.example"},
                 organization={"id": f"o{n}", "name": f"Org {n}"})
        out_lines.append(json.dumps(t))
    f = tmp_path / "big.jsonl"
    f.write_text("\n".join(out_lines) + "\n", encoding="utf-8", errors="surrogatepass")
    assert main(["score", "--now", NOW, str(f)]) == 1
    out, err = capsys.readouterr()
    decisions = [json.loads(x) for x in out.splitlines()]
    assert len(decisions) == 10_000 - len(bad_at)
    assert {d["ticket_id"] for d in decisions} == {f"t:{n}" for n in range(1, 10_001) if n not in bad_at}
    assert [int(e.split(":")[0].removeprefix("line ")) for e in err.splitlines()] == sorted(bad_at)


def test_an_engine_failure_costs_only_its_own_ticket(monkeypatch, tmp_path, capsys):
    # A ticket the engine chokes on (a bug, or input the reader let through) is found and named;
    # the others are still decided together.
    import importlib

    decide_mod = importlib.import_module("deskwatch.core.engine.decide")

    real = decide_mod._decide

    def flaky(t, *args, **kwargs):
        if t.id == "zendesk:5002":
            raise ValueError("year 10000 is out of range")
        return real(t, *args, **kwargs)

    monkeypatch.setattr(decide_mod, "_decide", flaky)
    lines = EXAMPLES.read_text().splitlines()
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    assert main(["score", "--now", NOW, str(f)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == len(lines) - 1
    assert err == "line 2: could not be scored (ValueError: year 10000 is out of range)\n"


def test_the_reader_rejects_what_would_be_read_wrongly():
    with pytest.raises(TicketError, match=r"messages\[0\]\.public: expected true or false"):
        ticket_from_dict(_ticket(messages=[dict(GOOD["messages"][0], public="false")]))
    with pytest.raises(TicketError, match="requester.email: expected a string, got a list"):
        ticket_from_dict(_ticket(requester={"email": ["a@b"]}))
    t = ticket_from_dict(_ticket(messages=[dict(GOOD["messages"][0], public=False)]))
    assert t.messages[0].public is False
    # free text keeps its ticket: a broken emoji becomes the replacement character
    t = ticket_from_dict(_ticket(messages=[dict(GOOD["messages"][0], body="broken \ud83d emoji")]))
    assert t.messages[0].body == "broken \ufffd emoji"


def test_now_outside_the_years_is_a_usage_error(capsys):
    assert main(["score", "--now", "9999-12-31T00:00:00Z", str(EXAMPLES)]) == 2
    assert "--now: year 9999 is outside 1970-2200" in capsys.readouterr().err


def test_score_without_now_decides_as_of_the_current_time(capsys):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert main(["score", str(EXAMPLES)]) == 0
    after = datetime.now(timezone.utc)
    for line in capsys.readouterr().out.splitlines():
        at = datetime.fromisoformat(json.loads(line)["decided_at"].replace("Z", "+00:00"))
        assert before <= at <= after


@pytest.mark.parametrize("when", [datetime(9999, 12, 31, 23, tzinfo=timezone.utc), datetime(1, 1, 1, tzinfo=timezone.utc)])
def test_calendar_refuses_edge_dates_with_a_calendar_error(when):
    cal = next(iter(config.load(None).sla.calendars.values()))
    for call in (lambda: add_business_minutes(cal, when, 60), lambda: in_business_hours(cal, when),
                 lambda: business_minutes_between(cal, when, datetime(2026, 1, 1, tzinfo=timezone.utc))):
        with pytest.raises(CalendarError, match="between the years 1900 and 9000"):
            call()


# -- config ---------------------------------------------------------------------------------

BROKEN_CONFIG = """\
[escalation.weights]
impact = nan
sentiment = inf
age = 99999999999999999999999

[daemon]
page_size = 123456789012345678901234567890
log_format = "${UNCLOSED"
log_fromat = "json"

[nlp]
analyzer = "nonesuch"

[sources.zd]
type = "zendesk"
base_url = "https://acme.zendesk.com:70000"
email = "admin@acme.example"
token = "${DW_TEST_UNSET_TOKEN}"

[sources.fd]
type = "freshdesk"
base_url = "https://acme.freshdesk.com"
api_key = "${DW_TEST_UNSET_KEY}"
poll_interval = nan
"""


def test_config_check_lists_every_error_in_one_run(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DW_TEST_UNSET_TOKEN", raising=False)
    monkeypatch.delenv("DW_TEST_UNSET_KEY", raising=False)
    f = tmp_path / "c.toml"
    f.write_text(BROKEN_CONFIG)
    assert main(["config", "check", "--config", str(f)]) == 2
    err = capsys.readouterr().err
    errors = [x for x in err.splitlines() if "configuration error" in x]
    keys = [x.split(f"{f}: ", 1)[1].split(":", 1)[0] for x in errors]
    assert sorted(keys) == sorted([
        "escalation.weights.impact", "escalation.weights.sentiment", "escalation.weights.age",
        "daemon.page_size", "daemon.log_format", "daemon.log_fromat", "nlp.analyzer",
        "sources.zd.base_url", "sources.fd.poll_interval",
    ]), err
    assert "ports go from 1 to 65535" in err and 'unknown analyzer "nonesuch"' in err
    warnings = [x for x in err.splitlines() if "warning" in x]
    assert len(warnings) == 2 and all("is not set" in w and "daemon will not start" in w for w in warnings)
    assert "DW_TEST_UNSET_TOKEN" in warnings[0] and "DW_TEST_UNSET_KEY" in warnings[1]
    assert f"deskwatch: {len(errors)} errors in {f}" in err


def test_unset_secret_is_only_a_warning_in_check_and_an_error_to_run(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DW_TEST_UNSET_KEY", raising=False)
    f = tmp_path / "c.toml"
    f.write_text('[sources.fd]\ntype = "freshdesk"\nbase_url = "https://acme.freshdesk.com"\n'
                 'api_key = "${DW_TEST_UNSET_KEY}"\n')
    assert main(["config", "check", "--config", str(f)]) == 0
    captured = capsys.readouterr()
    assert "ok (1 source configured)" in captured.out
    assert "warning" in captured.err and "DW_TEST_UNSET_KEY is not set" in captured.err
    from deskwatch.core.connect.plugins import validate_sources

    with pytest.raises(ConfigError, match="DW_TEST_UNSET_KEY is not set"):
        validate_sources(config.load(f))  # what the daemon does before it starts


@pytest.mark.parametrize("content, problem", [
    (b"\xff\xfe\x00\x01binary\x00", "not UTF-8 text (line 1, byte 1)"),
    (b'[daemon]\nlog_format = "caf\xe9"\n', "not UTF-8 text (line 2"),
    (("a = " + "[" * 5000 + "]" * 5000 + "\n").encode(), "nested too deeply"),
    (("[" + ".".join(["a"] * 3000) + "]\n").encode(), "nested more than 32 levels deep"),
    (("[daemon]\npage_size = " + "9" * 5000 + "\n").encode(), "a number with thousands of digits"),
])
def test_unreadable_config_files_are_errors_not_tracebacks(content, problem, tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_bytes(content)
    assert main(["config", "check", "--config", str(f)]) == 2
    assert problem in capsys.readouterr().err
    with pytest.raises(ConfigError, match="nested|UTF-8|digits"):
        config.load(f)


def test_a_nan_weight_never_reaches_score(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("[escalation.weights]\nimpact = nan\n")
    assert main(["score", "--config", str(f), "--now", NOW, str(EXAMPLES)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "escalation.weights.impact: expected a number, got nan" in err
