"""`deskwatch replay`: history re-decided as it unfolded, a candidate against the active config
and against what people did."""

from __future__ import annotations

import json
from datetime import timedelta


from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.engine import DecisionContext, decide
from deskwatch.core.model import Message, StatusChange, ticket_to_dict
from deskwatch.core.report.replay import as_of, events, replay

from .conftest import NOW
from .store.factory import ticket
from tests.store.pg import pg_url  # noqa: F401  (a fixture: history runs on PostgreSQL too)

from .test_report import history  # noqa: F401  (the fixture: a store with people's actions)

CALM = "Hi, how do I change my avatar? Thanks!"
ANGRY = ("This is unacceptable!!! Still broken after three days. We are furious and will cancel our subscription. "
         "Worst support ever.")


def turning_sour():
    return ticket("zendesk:9", created=NOW - timedelta(hours=5), body=CALM, extra_messages=(
        Message("agent", NOW - timedelta(hours=4), "Under Settings > Profile.", True, "a"),
        Message("customer", NOW - timedelta(hours=1), ANGRY, True, "c"),
    ), status="solved")


def test_each_customer_message_is_decided_with_what_was_known_then():
    t = turning_sour()
    cfg = config.load(None)
    steps = replay([t], {"active": cfg})[0].steps["active"]
    assert [s.at for s in steps] == [NOW - timedelta(hours=5), NOW - timedelta(hours=1)]
    first = as_of(t, steps[0].at)
    assert [m.body for m in first.messages] == [CALM] and first.status == "open"  # solved later, open then
    assert steps[0].decision == decide(first, cfg, steps[0].at, DecisionContext())
    assert "trigger:churn" not in {s.name for s in steps[0].decision.signals}
    assert "trigger:churn" in {s.name for s in steps[1].decision.signals}
    assert steps[1].decision.score > steps[0].decision.score


def test_status_history_and_event_order():
    t = ticket("zendesk:1", created=NOW - timedelta(hours=3))
    t2 = ticket("zendesk:2", created=NOW - timedelta(hours=4), extra_messages=(Message("customer", NOW, "again", True, "c"),))
    assert list(events([t, t2])) == [(NOW - timedelta(hours=4), 1), (NOW - timedelta(hours=3), 0), (NOW, 1)]
    from dataclasses import replace
    closed = replace(t, status="closed", status_history=(StatusChange("pending", NOW - timedelta(hours=2)),
                                                         StatusChange("closed", NOW - timedelta(hours=1))))
    assert as_of(closed, NOW - timedelta(hours=3)).status == "new"
    assert as_of(closed, NOW - timedelta(minutes=90)).status == "pending"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_candidate_from_an_export_names_the_signal_that_changed(tmp_path, capsys):
    export = _write(tmp_path, "x.jsonl", json.dumps(ticket_to_dict(turning_sour())) + "\n"
                    + json.dumps(ticket_to_dict(ticket("zendesk:10", body=CALM, email="z@else.example", org="Else"))) + "\n")
    # "Still broken after three days" reads as a failure; a candidate that ignores failures
    # (and the tone) no longer makes this ticket immediate.
    calm = _write(tmp_path, "calm.toml", "[escalation.weights]\ntrajectory = 0.0\nsentiment = 0.0\nloop = 0.0\nfailure = 0.0\n")
    assert main(["replay", "--from", export, "--config", calm, "--format", "json"]) == 0
    out = capsys.readouterr()
    assert out.err == ""  # no progress when stderr is not a terminal
    data = json.loads(out.out)
    assert data["tickets"] == 2 and data["steps"] == 3
    assert data["confusion"]["immediate"]["priority"] == 1
    [change] = data["changes"]
    assert (change["ticket_id"], change["active"], change["candidate"], change["signal"]) == ("zendesk:9", "immediate", "priority", "failure")
    assert [s["false_escalations"] for s in data["summaries"]] == [None, None]  # no people's actions in an export


def _store_config(tmp_path, store):
    where = f'url = "{store.url}"' if store.url else f'path = "{store.path}"'
    return _write(tmp_path, "active.toml", f"[store]\n{where}\n")


def test_against_people_on_the_store(history, tmp_path, capsys):  # noqa: F811
    active = _store_config(tmp_path, history)
    eager = _write(tmp_path, "eager.toml", "[escalation.thresholds]\nmonitor = 5.0\npriority = 10.0\n")
    assert main(["replay", "--active", active, "--config", eager, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    act, cand = data["summaries"]
    assert data["people_tickets"] == 6
    # The eager candidate escalates every ticket at its first message: before both people who
    # escalated (no misses, both earlier), and the two tickets people stood down are false escalations.
    assert cand["escalated"] == 6 and cand["misses"] == 0 and cand["false_escalations"] == 2
    assert (cand["earlier"], cand["later"]) == (2, 0) and cand["earlier_minutes_median"] < 0
    assert act["escalated"] < cand["escalated"]
    assert sum(sum(row.values()) for row in data["confusion"].values()) == 6
    assert main(["replay", "--active", active, "--config", eager]) == 0
    out = capsys.readouterr().out
    assert "Confusion of the highest recommendation" in out and "ticket(s) whose decision changed" in out


def test_a_candidate_with_errors_is_refused_before_anything_runs(history, tmp_path, capsys):  # noqa: F811
    bad = _write(tmp_path, "bad.toml", '[escalation.thresholds]\npriority = "high"\n')
    assert main(["replay", "--active", _store_config(tmp_path, history), "--config", bad]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "escalation.thresholds.priority" in err
    unknown = _write(tmp_path, "nlp.toml", '[nlp]\nanalyzer = "nope"\n')
    assert main(["replay", "--active", _store_config(tmp_path, history), "--config", unknown]) == 2
    err = capsys.readouterr().err
    assert "nlp.toml" in err and "nlp.analyzer" in err


def test_bad_periods_and_an_empty_store_exit_2(history, tmp_path, capsys):  # noqa: F811
    active = _store_config(tmp_path, history)
    assert main(["replay", "--active", active, "--since", "2026-12-01", "--until", "2026-11-01"]) == 2
    assert "is not before --until" in capsys.readouterr().err
    assert main(["replay", "--active", active, "--since", "2027-01-01"]) == 2
    assert "no tickets were created" in capsys.readouterr().err
    empty = _write(tmp_path, "empty.toml", f'[store]\npath = "{tmp_path / "empty.db"}"\n')
    assert main(["replay", "--active", empty]) == 2
    assert "holds no tickets" in capsys.readouterr().err


def test_configs_sharing_read_text_decide_as_they_would_alone():
    from dataclasses import replace

    active = config.load(None)
    esc = active.escalation
    candidate = config.Config(active.file, {**active.sections, "escalation": replace(
        esc, thresholds=replace(esc.thresholds, priority=20.0), weights=replace(esc.weights, trajectory=0.0))}, active.raw)
    batch = [turning_sour(), ticket("zendesk:10", body=CALM, email="z@else.example", org="Else")]
    together = replay(batch, {"active": active, "candidate": candidate})
    alone = replay(batch, {"candidate": candidate})
    assert [[s.decision for s in tl.steps["candidate"]] for tl in together] == \
        [[s.decision for s in tl.steps["candidate"]] for tl in alone]
    assert together[0].steps["active"][-1].decision != together[0].steps["candidate"][-1].decision


def _batch_and_configs():
    from dataclasses import replace

    active = config.load(None)
    esc = active.escalation
    candidate = config.Config(active.file, {**active.sections, "escalation": replace(
        esc, weights=replace(esc.weights, trajectory=0.0, sentiment=0.0, loop=0.0, failure=0.0))}, active.raw)
    batch = [turning_sour(), ticket("zendesk:10", body=CALM, email="z@else.example", org="Else"),
             ticket("zendesk:11", created=NOW - timedelta(hours=6), body=ANGRY, email="y@third.example", org="Third")]
    return batch, {"active": active, "candidate": candidate}


def test_a_streamed_comparison_equals_the_comparison_of_the_kept_timelines():
    from deskwatch.core.report.replay import replay_iter
    from deskwatch.core.report.replay_compare import People, compare

    batch, configs = _batch_and_configs()
    people = {"zendesk:9": People(NOW - timedelta(hours=2), False), "zendesk:10": People(None, True),
              "zendesk:11": People(NOW - timedelta(hours=7), False)}
    kept = replay(batch, configs)
    assert [tl.ticket.id for tl in kept] == [t.id for t in batch]  # replay() keeps input order
    streamed = compare(replay_iter(batch, configs), people, "active", "candidate")  # a generator, read once
    assert streamed == compare(kept, people, "active", "candidate")
    assert streamed.tickets == 3 and streamed.changes and streamed.summaries[0].compared_with_people == 3


def test_the_stream_keeps_no_timeline_it_has_handed_over():
    import weakref

    from deskwatch.core.report.replay import replay_iter

    batch, configs = _batch_and_configs()
    refs = []
    for tl in replay_iter(batch, configs):
        # the timelines handed over before are already freed, while the replay goes on
        assert [r() for r in refs] == [None] * len(refs)
        refs.append(weakref.ref(tl))
    assert len(refs) == len(batch)
