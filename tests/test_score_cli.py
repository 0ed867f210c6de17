"""`deskwatch score` through the real command line entry point."""

from __future__ import annotations

import io
import json

from deskwatch.core.cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "tickets.jsonl"
NOW = "2026-11-23T10:00:00Z"
KEYS = ["ticket_id", "score", "recommendation", "tier", "team", "management", "page", "page_reason", "confidence", "needs_review", "signals", "reasons",
        "sla", "route", "tones", "decided_at"]


def test_scores_every_example_line_as_json(capsys):
    assert main(["score", "--now", NOW, str(EXAMPLES)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == len(EXAMPLES.read_text().splitlines())
    first = json.loads(lines[0])
    assert list(first) == KEYS
    assert first["ticket_id"] == "zendesk:5001" and first["recommendation"] == "immediate"
    assert first["decided_at"] == NOW
    # the tone of each customer message: the same readings the trajectory signal explains
    falling = next(d for d in map(json.loads, lines) if any(s["name"] == "trajectory" for s in d["signals"]))
    trajectory = next(s for s in falling["signals"] if s["name"] == "trajectory")
    tones = falling["tones"]
    assert trajectory["evidence"] == [f"first message {tones[0]:+.2f}", f"latest message {tones[-1]:+.2f}",
                                      f"{len(tones)} customer messages"]
    assert all(set(s) >= {"name", "value", "weight", "contribution", "evidence", "detail"} for s in first["signals"])
    assert err == ""


def test_same_input_and_now_give_identical_output(capsys):
    main(["score", "--now", NOW, str(EXAMPLES)])
    a = capsys.readouterr().out
    main(["score", "--now", NOW, str(EXAMPLES)])
    assert capsys.readouterr().out == a


def test_bad_lines_are_reported_and_the_rest_scored(tmp_path, capsys):
    good = EXAMPLES.read_text().splitlines()
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join([
        good[0],
        "{not json",
        json.dumps({"subject": "no id", "messages": []}),
        json.dumps({"id": "zendesk:9", "subject": "no messages"}),
        json.dumps({"id": "zendesk:10", "created_at": "yesterday", "messages": []}),
        "",
        good[1],
        good[1],
    ]) + "\n")
    assert main(["score", "--now", NOW, str(f)]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["ticket_id"] for line in out.splitlines()] == ["zendesk:5001", "zendesk:5002"]
    errors = err.splitlines()
    assert errors[0].startswith("line 2: not valid JSON")
    assert errors[1] == 'line 3: id: missing (e.g. "zendesk:123")'
    assert errors[2].startswith("line 4: messages: missing")
    assert errors[3].startswith("line 5: created_at: expected an ISO 8601 time")
    assert errors[4] == "line 8: id 'zendesk:5002' already given on line 7; ids must be unique"
    assert len(errors) == 5


def test_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(EXAMPLES.read_text().splitlines()[-1] + "\n"))
    assert main(["score", "--now", NOW, "-"]) == 0
    assert json.loads(capsys.readouterr().out)["ticket_id"] == "zendesk:5050"


def test_table_format_shows_a_breakdown(capsys):
    assert main(["score", "--now", NOW, "--format", "table", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    block = out.split("\n\n")[1]
    assert block.startswith("zendesk:5002  score")
    assert "IMMEDIATE" in block and "tier3/Engineering" in block
    assert "impact" in block and "█" in block and "350 users affected" in block
    assert "trigger:compliance" in out and "HARD" in out


def test_bad_now_and_bad_config_exit_2(tmp_path, capsys):
    assert main(["score", "--now", "tomorrow", str(EXAMPLES)]) == 2
    assert "--now" in capsys.readouterr().err
    cfg = tmp_path / "c.toml"
    cfg.write_text('[escalation.weights]\nsentiment = "high"\n')
    assert main(["score", "--config", str(cfg), "--now", NOW, str(EXAMPLES)]) == 2
    assert 'escalation.weights.sentiment: expected a number, got "high"' in capsys.readouterr().err
    assert main(["score", "--now", NOW, str(tmp_path / "missing.jsonl")]) == 2


def test_a_badly_encoded_line_is_reported_not_fatal(tmp_path, capsys):
    good = EXAMPLES.read_text().splitlines()[-1].encode()
    f = tmp_path / "in.jsonl"
    f.write_bytes(b'{"id": "x:1", "subject": "caf\xe9", "messages": []}\n' + good + b"\n")
    assert main(["score", "--now", NOW, str(f)]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("line 1: not UTF-8 text")
    assert json.loads(out)["ticket_id"] == "zendesk:5050"


def test_empty_input_scores_nothing(tmp_path, capsys):
    f = tmp_path / "empty.jsonl"
    f.write_text("\n\n")
    assert main(["score", "--now", NOW, str(f)]) == 0
    assert capsys.readouterr().out == ""
