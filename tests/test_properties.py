"""Property-based tests (Hypothesis) of the promise that bad input never loses the run:
generated tickets and configs, hostile shapes included, never give a traceback; every bad line
is reported with its number; what ``score`` prints is strict JSON (no NaN)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import tempfile
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from deskwatch.core.cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "tickets.jsonl"
BASE = [json.loads(x) for x in EXAMPLES.read_text().splitlines()[:6]]
NOW = "2026-11-23T10:00:00Z"
ERROR_LINE = re.compile(r"^line (\d+): \S.*$")
BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} in output: not JSON")


def strict_json(line: str) -> dict:
    return json.loads(line, parse_constant=_reject_constant)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# -- values: ordinary, odd and hostile ---------------------------------------------------------

hostile_text = st.sampled_from([
    "", " ", "zendesk:\ud800", "\udfff", "${", "${UNCLOSED", "false", "true", "NaN", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-11-23T09:00:00+14:00", "2026-13-45", "x" * 5000, "é\u202e\x00",
])
dates = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}T09:00:00Z",
                  st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28))
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(-(10**60), 10**60), st.sampled_from([10**4000, -(10**300)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), hostile_text, dates,
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6)

TICKET_KEYS = ["id", "source", "channel", "subject", "status", "priority", "created_at", "updated_at", "requester",
               "organization", "assignee", "group", "tags", "affected_users", "url", "status_history", "messages"]
ORG_KEYS = ["id", "name", "annual_value", "tier", "renewal_date", "health"]
MESSAGE_KEYS = ["author", "created_at", "body", "public", "author_id"]


@st.composite
def ticket_lines(draw, n: int) -> str:
    """A ticket in JSON, from an example with a few fields replaced by generated values."""
    t = json.loads(json.dumps(draw(st.sampled_from(BASE))))
    t["id"] = f"p:{n}"
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["ticket", "organization", "message"]))
        if where == "ticket":
            t[draw(st.sampled_from(TICKET_KEYS))] = draw(values)
        elif where == "organization":
            org = t.get("organization") if isinstance(t.get("organization"), dict) else {}
            org[draw(st.sampled_from(ORG_KEYS))] = draw(values)
            t["organization"] = org
        elif isinstance(t.get("messages"), list) and t["messages"] and isinstance(t["messages"][0], dict):
            t["messages"][0][draw(st.sampled_from(MESSAGE_KEYS))] = draw(values)
    return json.dumps(t, allow_nan=True)


raw_hostile = st.one_of(
    st.integers(1_000, 100_000).map(lambda k: "[" * k + "]" * k),
    st.integers(1_000, 50_000).map(lambda k: '{"a":' * k + "1" + "}" * k),
    st.integers(4_301, 6_000).map(lambda k: '{"id": "big", "messages": [], "affected_users": ' + "7" * k + "}"),
    st.text(st.characters(blacklist_characters="\n"), max_size=30),  # one line each
    st.sampled_from(["{", "null", "[]", '"id"', "NaN", '{"id": NaN}', '{"id": "x", "messages": "no"}']),
)
RAW_HOSTILE_SURE = re.compile(r"^(\[\[|\{\"a\":\{\"a\"|\{\"id\": \"big\")")  # certainly bad


@st.composite
def ticket_files(draw) -> list[str]:
    lines = []
    for n in range(1, draw(st.integers(1, 12)) + 1):
        lines.append(draw(st.one_of(ticket_lines(n), ticket_lines(n), raw_hostile)))
    return lines


@BOUNDED
@given(ticket_files())
def test_score_reports_every_bad_line_and_prints_only_strict_json(lines):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "in.jsonl"
        f.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
        code, out, err = run_cli(["score", "--now", NOW, str(f)])
    decisions = [strict_json(x) for x in out.splitlines()]  # every line strict JSON
    reported = []
    for e in err.splitlines():
        m = ERROR_LINE.match(e)
        assert m, f"not a 'line N: reason' error: {e[:200]}"
        reported.append(int(m.group(1)))
    assert len(set(reported)) == len(reported), "a line reported twice"
    non_blank = [n for n, x in enumerate(lines, 1) if x.strip()]
    assert len(decisions) + len(reported) == len(non_blank), "a line neither decided nor reported"
    for n, x in enumerate(lines, 1):
        if RAW_HOSTILE_SURE.match(x):
            assert n in reported
    decided_ids = {d["ticket_id"] for d in decisions}
    assert not decided_ids & {f"p:{n}" for n in reported}, "a line both decided and reported"
    assert code == (1 if reported else 0)
    event(f"{len(decisions)} decided, {len(reported)} reported")


# -- configs ---------------------------------------------------------------------------------

NUMBER_KEYS = [("escalation.weights", "impact"), ("escalation.weights", "sentiment"), ("daemon", "shutdown_timeout"),
               ("daemon", "page_size"), ("nlp", "caps_penalty"), ("tui", "max_rows"), ("tui", "refresh_interval")]
OTHER_KEYS = [("daemon", "log_format"), ("nlp", "analyzer"), ("tui", "actor"), ("store", "path"),
              ("sources.zd", "base_url"), ("sources.zd", "token"), ("sources.zd", "poll_interval"), ("daemon", "typo_key")]
toml_scalars = st.one_of(
    st.booleans(), st.integers(-(10**40), 10**40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=15), hostile_text,
    st.sampled_from(["https://acme.zendesk.com:70000", "https://acme.zendesk.com:443", "ftp://x", "${DW_PROP_UNSET}"]),
)


@st.composite
def configs(draw) -> tuple[bytes, set[str]]:
    """A config file, and the keys that certainly must be reported (a non-finite number)."""
    data: dict = {"sources": {"zd": {"type": "zendesk", "base_url": "https://acme.zendesk.com",
                                     "email": "admin@acme.example", "token": "${DW_PROP_UNSET}"}}}
    must = set()
    for table, key in draw(st.lists(st.sampled_from(NUMBER_KEYS + OTHER_KEYS), max_size=5, unique=True)):
        value = draw(toml_scalars)
        node = data
        for part in table.split("."):
            node = node.setdefault(part, {})
        node[key] = value
        if (table, key) in NUMBER_KEYS and isinstance(value, float) and not math.isfinite(value):
            must.add(f"{table}.{key}")
    text = tomli_w.dumps(data).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # now and then a file that is no TOML text at all
        text = draw(st.sampled_from([b"\xff\xfe\x00", "caf\xe9".encode("latin-1"), b"a = " + b"[" * 3000 + b"]" * 3000,
                                     ("[" + ".".join(["t"] * 2000) + "]").encode()]))
        must = {"*"}
    return text, must


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_config_check_never_tracebacks_and_names_each_bad_key(case):
    text, must = case
    os.environ.pop("DW_PROP_UNSET", None)
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "c.toml"
        f.write_bytes(text)
        code, out, err = run_cli(["config", "check", "--config", str(f)])
        assert code in (0, 2)
        event(f"config check exit {code}")
        for line in err.splitlines():
            assert line.startswith(("deskwatch: configuration error: ", "deskwatch: warning: ", "deskwatch: ")), line
        if code == 0:
            assert out.startswith(f"{f}: ok")
            # a config that passes the check gives strict JSON decisions
            code, out, err = run_cli(["score", "--config", str(f), "--now", NOW, str(EXAMPLES)])
            assert code == 0, err
            assert all(strict_json(x) for x in out.splitlines())
        if must:
            assert code == 2
            for key in must - {"*"}:
                assert f": {key}: " in err, (key, err)
