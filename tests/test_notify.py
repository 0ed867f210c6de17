"""Notifications to people: delivered through Apprise to a local HTTP receiver (json://), retried
after a failure, never sent twice across a restart, stopped by an acknowledgment, quiet at night."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.daemon import notify, notify_send, operations
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model import Decision, Message, Route, SlaStatus, SlaTarget, Ticket
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.store import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
SECRET = "s3cretpw"


class Receiver:
    """A webhook on 127.0.0.1 that records what it receives and can answer 500 a few times."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.auth: list[str | None] = []
        self.fail_next = 0
        self.always_fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.always_fail or receiver.fail_next > 0:
                    receiver.fail_next = max(0, receiver.fail_next - 1)
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append({"path": self.path, **json.loads(body)})
                receiver.auth.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"json://bot:{SECRET}@127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def make_config(tmp_path, notify_data: dict) -> config.Config:
    data = config.merge(config.default_data(), {"store": {"path": str(tmp_path / "d.db")}, "notify": notify_data})
    return config.parse_data(data, "test")


def ticket(**kw) -> Ticket:
    base = dict(
        id="zendesk:42", source="zendesk", channel="email", subject="Checkout fails for every customer",
        status="open", priority="high", created_at=NOW - timedelta(hours=1), updated_at=NOW,
        messages=(Message("customer", NOW - timedelta(hours=1),
                          "Hello. Our checkout page fails with error 502 since this morning, please fix it asap."),),
        url="https://acme.zendesk.com/agent/tickets/42",
    )
    return Ticket(**{**base, **kw})


def decision(on_call=True, chain_step=None, chain=None, team="Engineering", agent="Hana", sla=None) -> Decision:
    route = Route("tier2", team, agent, on_call, chain_step, "outage rule", chain)
    return Decision("zendesk:42", 82.0, "immediate", "tier2", team, 0.9, False, (), ("outage reported",), NOW,
                    sla=sla, route=route, page=on_call, page_reason="checkout failing for every customer" if on_call else None)


def deliver(store, cfg, at: datetime) -> int:
    return asyncio.run(notify_send.deliver_due(store, cfg.notify, lambda: at))


def test_a_page_reaches_the_team_channel_with_what_the_person_needs(tmp_path, receiver):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}})
    with Store(tmp_path / "d.db") as store:
        assert notify.plan(store, cfg, ticket(), decision(), NOW) == 1
        assert deliver(store, cfg, NOW) == 1
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["path"] == "/hook" and receiver.auth[0].startswith("Basic ")
    assert got["title"].startswith("[deskwatch] PAGE: zendesk:42 Checkout fails")
    text = got["message"]
    assert "Ticket: zendesk:42" in text
    assert "Our checkout page fails with error 502" in text  # the ask, in the customer's words
    assert "Why: " in text and "score 82/100" in text and "outage reported" in text
    assert "Routed to: tier2, team Engineering, agent Hana (on call)" in text
    assert "Link: https://acme.zendesk.com/agent/tickets/42" in text
    assert "deskwatch tui" in text and "Acknowledge" in text


def test_the_same_decision_twice_notifies_once_and_the_next_chain_step_again(tmp_path, receiver):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}, "events": ["notify_step"]})
    with Store(tmp_path / "d.db") as store:
        store.start_escalation("zendesk:42", NOW)
        d0 = decision(on_call=False, chain="default", chain_step=0)
        assert notify.plan(store, cfg, ticket(), d0, NOW) == 1
        assert notify.plan(store, cfg, ticket(), d0, NOW + timedelta(minutes=1)) == 0
        deliver(store, cfg, NOW)
        # Step 1 of the default chain is an "assign" step: no notify event; a page-less chain moves on.
        assert notify.plan(store, cfg, ticket(), replace(d0, route=replace(d0.route, chain_step=1)), NOW) == 0
    assert len(receiver.received) == 1
    assert "step 1 of escalation chain default" in receiver.received[0]["message"]


def test_a_500_is_retried_after_a_backoff_and_the_error_is_redacted(tmp_path, receiver, capsys):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}})
    receiver.fail_next = 1
    with Store(tmp_path / "d.db") as store:
        notify.plan(store, cfg, ticket(), decision(), NOW)
        assert deliver(store, cfg, NOW) == 0
        [row] = store.notifications_for("zendesk:42")
        assert row.state == "pending" and row.attempts == 1 and row.due_at > NOW
        assert row.error and SECRET not in row.error
        [health] = store.channel_health()
        assert health.failing and SECRET not in (health.last_error or "")
        assert deliver(store, cfg, NOW + timedelta(seconds=5)) == 0  # not due yet
        assert deliver(store, cfg, row.due_at) == 1
        [row] = store.notifications_for("zendesk:42")
        assert row.state == "sent" and row.attempts == 2
        assert not store.channel_health()[0].failing
    assert len(receiver.received) == 1


def test_a_crash_between_claim_and_mark_does_not_send_again_after_restart(tmp_path, receiver):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}})
    store = Store(tmp_path / "d.db")
    notify.plan(store, cfg, ticket(), decision(), NOW)
    assert store.claim_notification(NOW) is not None  # claimed ("sending"), then the daemon dies
    store.close()
    with Store(tmp_path / "d.db") as store:  # the restarted daemon
        assert asyncio.run(Daemon(cfg, store, {}, clock=lambda: NOW).run(once=True)).errors == {}
        [row] = store.notifications_for("zendesk:42")
        assert row.state == "unknown"
        assert notify.plan(store, cfg, ticket(), decision(), NOW) == 0  # deciding again re-queues nothing
    assert receiver.received == []


def test_the_daemon_delivers_and_a_restart_does_not_repeat(tmp_path, receiver):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}})
    for _ in range(2):
        with Store(tmp_path / "d.db") as store:
            notify.plan(store, cfg, ticket(), decision(), NOW)
            asyncio.run(Daemon(cfg, store, {}, clock=lambda: NOW).run(once=True))
    assert len(receiver.received) == 1


def test_an_acknowledgment_stops_the_pages(tmp_path, receiver):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}})
    with Store(tmp_path / "d.db") as store:
        store.save_page("zendesk", [ticket()], [], None, now=NOW)
        store.start_escalation("zendesk:42", NOW)
        notify.plan(store, cfg, ticket(), decision(chain="default", chain_step=0), NOW)
        operations.acknowledge(store, "zendesk:42", "hana", NOW)
        assert deliver(store, cfg, NOW) == 0
        assert {n.state for n in store.notifications_for("zendesk:42")} == {"cancelled"}
        later = decision(chain="default", chain_step=1)
        assert notify.plan(store, cfg, ticket(), later, NOW + timedelta(minutes=20)) == 0
    assert receiver.received == []


def test_a_failing_channel_does_not_stop_the_others_and_status_shows_it(tmp_path, receiver, capsys):
    broken = Receiver()
    broken.always_fail = True
    try:
        data = {"channels": {"Engineering": [broken.url("bad"), receiver.url("good")]}}
        cfg = make_config(tmp_path, data)
        with Store(tmp_path / "d.db") as store:
            assert notify.plan(store, cfg, ticket(), decision(), NOW) == 2
            assert deliver(store, cfg, NOW) == 1
        assert [r["path"] for r in receiver.received] == ["/good"]
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps({"store": {"path": str(tmp_path / "d.db")}, "notify": data}))
        capsys.readouterr()
        assert main(["status", "--json", "--config", str(path)]) == 0
        out = capsys.readouterr().out
        assert SECRET not in out
        channels = {c["name"]: c for c in json.loads(out)["notifications"]["channels"]}
        assert channels["Engineering[0]"]["failing"] and channels["Engineering[0]"]["last_error"]
        assert not channels["Engineering[1]"]["failing"]
        assert main(["status", "--config", str(path)]) == 0
        text = capsys.readouterr().out
        assert "Engineering[0]" in text and "failing" in text and SECRET not in text
    finally:
        broken.close()


def test_secrets_never_reach_the_logs(tmp_path, caplog):
    cfg = make_config(tmp_path, {"channels": {"Engineering": [f"json://bot:{SECRET}@127.0.0.1:9/x"]}})
    caplog.set_level(logging.DEBUG)
    with Store(tmp_path / "d.db") as store:
        notify.plan(store, cfg, ticket(), decision(), NOW)
        assert deliver(store, cfg, NOW) == 0  # nothing listens on port 9
        [row] = store.notifications_for("zendesk:42")
    assert row.error and SECRET not in row.error
    assert SECRET not in caplog.text
    assert "notification not delivered" in caplog.text


def test_quiet_hours_hold_all_but_pages(tmp_path, receiver):
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
    cfg = make_config(tmp_path, {"channels": {"Engineering": [receiver.url()]}, "quiet_hours": quiet})
    night = datetime(2026, 11, 23, 22, 30, tzinfo=timezone.utc)  # 23:30 in Berlin
    morning = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)  # 07:00 in Berlin (UTC+1 in November)
    warn = SlaStatus("standard", (SlaTarget("first_response", night + timedelta(minutes=30), 80.0, "warning"),))
    with Store(tmp_path / "d.db") as store:
        notify.plan(store, cfg, ticket(), decision(sla=warn), night)
        rows = {n.event: n for n in store.notifications_for("zendesk:42")}
        assert rows["page"].due_at == night
        assert rows["sla_warning"].due_at == morning
        assert deliver(store, cfg, night) == 1
        assert deliver(store, cfg, morning - timedelta(minutes=1)) == 0
        assert deliver(store, cfg, morning) == 1
    assert [r["title"].split(":")[0] for r in receiver.received] == ["[deskwatch] PAGE", "[deskwatch] SLA warning"]


def test_quiet_hours_windows():
    from deskwatch.core.daemon.notify_config import QuietHours
    from datetime import time

    overnight = QuietHours(time(22), time(7), "UTC")
    assert overnight.until(datetime(2026, 1, 1, 23, tzinfo=timezone.utc)) == datetime(2026, 1, 2, 7, tzinfo=timezone.utc)
    assert overnight.until(datetime(2026, 1, 2, 3, tzinfo=timezone.utc)) == datetime(2026, 1, 2, 7, tzinfo=timezone.utc)
    assert overnight.until(datetime(2026, 1, 2, 7, tzinfo=timezone.utc)) is None
    lunch = QuietHours(time(12), time(13), "America/New_York")
    assert lunch.until(datetime(2026, 7, 1, 16, 30, tzinfo=timezone.utc)) == datetime(2026, 7, 1, 17, tzinfo=timezone.utc)
    assert lunch.until(datetime(2026, 7, 1, 12, 30, tzinfo=timezone.utc)) is None


def test_a_url_apprise_cannot_read_is_named_by_its_key(tmp_path, capsys):
    with pytest.raises(ConfigError) as e:
        make_config(tmp_path, {"channels": {"Engineering": ["json://ok.example/x", f"nope://{SECRET}@x"]}})
    assert "notify.channels.Engineering[1]" in str(e.value) and 'scheme "nope"' in str(e.value)
    assert SECRET not in str(e.value)
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({"notify": {"channels": {"Billing": f"slack://{SECRET}"}},
                                   "store": {"path": str(tmp_path / "d.db")}}))
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "notify.channels.Billing[0]" in err and SECRET not in err


def test_notify_config_errors_name_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="notify.events: unknown event"):
        make_config(tmp_path, {"events": ["pages"]})
    with pytest.raises(ConfigError, match="notify.quiet_hours.timezone: unknown time zone"):
        make_config(tmp_path, {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Base"}})
    with pytest.raises(ConfigError, match='notify.quiet_hours.start: expected a local time such as "22:00"'):
        make_config(tmp_path, {"quiet_hours": {"start": "25:00", "end": "07:00"}})


def test_notify_test_command(tmp_path, receiver, capsys):
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({"notify": {"channels": {"Hana": receiver.url()}},
                                   "store": {"path": str(tmp_path / "d.db")}}))
    assert main(["notify", "test", "hana", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Hana[0]" in out and "delivered" in out and SECRET not in out
    assert receiver.received[0]["title"] == "[deskwatch] test notification"
    receiver.always_fail = True
    assert main(["notify", "test", receiver.url(), "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "not delivered" in out and SECRET not in out
    assert main(["notify", "test", "Nobody", "--config", str(path)]) == 2
    assert "no channel named 'Nobody'" in capsys.readouterr().err


def test_a_url_from_the_environment_is_expanded_and_a_missing_variable_only_warns_in_check(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DW_TEST_HOOK_PW", SECRET)
    cfg = make_config(tmp_path, {"channels": {"Ops": "json://bot:${DW_TEST_HOOK_PW}@127.0.0.1:9/x"}})
    [ch] = cfg.notify.channels
    assert ch.url.reveal() == f"json://bot:{SECRET}@127.0.0.1:9/x"
    assert SECRET not in ch.shown and SECRET not in repr(ch)
    monkeypatch.delenv("DW_TEST_HOOK_PW")
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({"notify": {"channels": {"Ops": "json://bot:${DW_TEST_HOOK_PW}@127.0.0.1:9/x"}}}))
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "DW_TEST_HOOK_PW is not set" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="notify.channels.Ops\\[0\\]: environment variable DW_TEST_HOOK_PW is not set"):
        config.load(path)
