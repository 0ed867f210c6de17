"""A 403/404/422 on one item's update fails that item, with its reason, after a bounded number
of attempts; the source is not paused. Only a 401, or a 403 on the account-level check, is an
auth failure. ``deskwatch status`` shows failed items, their reasons and the fix."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.connect.contract import AuthError, UpdateResult
from deskwatch.core.connect.errors import Forbidden
from deskwatch.core.connect.http import classify
from deskwatch.core.connect.kit.checks import check_kind, failed_check
from deskwatch.core.daemon import sync
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model import TicketUpdate
from deskwatch.core.store import open_store

from .conftest import NOW

BASE = "https://acme.example.com"


def _error(status: int, body: dict | None = None):
    r = httpx.Response(status, json=body or {}, request=httpx.Request("PUT", f"{BASE}/api/v2/tickets/2"))
    return classify(r).error("fd")


def test_a_403_is_forbidden_not_an_auth_failure_and_a_401_is():
    e403, e401 = _error(403), _error(401)
    assert isinstance(e403, Forbidden) and not isinstance(e403, AuthError) and e403.status == 403
    assert isinstance(e401, AuthError)
    # ...but on the account-level check a 403 is an auth problem with a fix.
    assert check_kind(e403) == "auth"
    assert failed_check(e403, {"auth": "give the agent access"}).message.endswith("give the agent access")


def test_zendesk_admin_only_export_403_is_account_level():
    from deskwatch.plugins.zendesk.connector import classify_zendesk

    r = httpx.Response(403, request=httpx.Request("GET", f"{BASE}/api/v2/incremental/tickets/cursor.json"))
    assert isinstance(classify_zendesk(r).error("zd"), AuthError)


class FakeConnector:
    """Ticket 1 updates fine; ticket 2 is forbidden (raised, as a connector that lets the HTTP
    kit's error through would); ticket 3 is refused with a 422 naming an unknown group."""

    def __init__(self):
        self.calls: list[str] = []

    async def update(self, update: TicketUpdate) -> UpdateResult:
        self.calls.append(update.native_id)
        if update.native_id == "2":
            raise _error(403, {"code": "access_denied", "message": "You are not authorized to perform this action."})
        if update.native_id == "3":
            return UpdateResult("failed", 'fd:3: group "Tier 9" is not a Freshdesk group the API key can see; '
                                          'add it to [sources.<name>.groups] as "Tier 9" = <id>', update.ticket_id)
        return UpdateResult("applied", "updated", update.ticket_id)


def _config(tmp_path):
    data = config.default_data()
    data["store"] = {"path": str(tmp_path / "deskwatch.db")}
    data["sources"] = {"fd": {"type": "freshdesk", "base_url": BASE, "api_key": "abcd1234efgh", "write_back": True}}
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(data))
    return path, config.load(path)


def test_a_forbidden_ticket_fails_alone_then_for_good_and_status_shows_why(tmp_path, capsys):
    path, cfg = _config(tmp_path)
    store = open_store(cfg)
    now = [NOW]
    fake = FakeConnector()
    try:
        for n in ("1", "2", "3"):
            store.enqueue(TicketUpdate(f"fd:{n}", "fd", f"k{n}", priority="high"), NOW)
        daemon = Daemon(cfg, store, {"fd": fake}, clock=lambda: now[0])
        src = daemon.sources["fd"]
        # No AuthError escapes: the source is not paused, and the other tickets go through.
        assert asyncio.run(daemon.drain_outbox(src)) == 1
        assert store.outbox_item("k1").state == "applied"
        item = store.outbox_item("k2")
        assert item.state == "failed" and item.retry_at is not None and "permission denied" in item.error
        for _ in range(sync.MAX_REFUSED_ATTEMPTS + 2):
            now[0] += timedelta(seconds=sync.BACKOFF_MAX + 1)
            asyncio.run(daemon.drain_outbox(src))
        # Bounded: given up after MAX_REFUSED_ATTEMPTS, not retried for ever.
        assert fake.calls.count("2") == sync.MAX_REFUSED_ATTEMPTS
        assert store.outbox_item("k2").retry_at is None and store.outbox_item("k3").retry_at is None
        assert store.outbox_failed() == 2 and store.outbox_depth() == 0
    finally:
        store.close()
    assert main(["status", "--json", "--config", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)["outbox"]
    assert out["failed"] == 2
    by_ticket = {f["ticket"]: f for f in out["failures"]}
    assert set(by_ticket) == {"fd:2", "fd:3"} and all(f["final"] for f in by_ticket.values())
    assert "403" in by_ticket["fd:2"]["error"] and "permission" in by_ticket["fd:2"]["fix"]
    assert by_ticket["fd:3"]["fix"].startswith("add it to [sources.<name>.groups]")
    assert main(["status", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "2 failed" in text and "fd:3" in text and "gave up" in text and "fix: add it to [sources.<name>.groups]" in text


def test_status_counts_items_waiting_to_retry_and_names_the_fix(tmp_path, capsys):
    path, cfg = _config(tmp_path)
    store = open_store(cfg)
    try:
        store.enqueue(TicketUpdate("fd:7", "fd", "k7", group="Tier 9"), NOW)
        store.claim("fd", 10, NOW)
        store.mark_failed("k7", "request failed (PUT https://acme.example.com/api/v2/tickets/7 -> 422): "
                                '{"errors":[{"field":"group_id","message":"unknown group"}]}', NOW + timedelta(minutes=5))
    finally:
        store.close()
    assert main(["status", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "outbox: 1 pending (1 retrying after an error), 0 failed" in text
    assert "unknown group" in text and "[sources.<name>.groups]" in text


@pytest.mark.parametrize("error,fix", [
    ("request failed (PUT https://x/api/v2/tickets/9 -> 404): not found", "gone"),
    ("request failed (PUT https://x/api/v2/tickets/9 -> 422): status is invalid", "refused a value"),
    ("server error (PUT https://x -> 503)", "see the error"),
])
def test_failure_fix_by_kind(error, fix):
    from deskwatch.core.daemon.failed_updates import failure_fix

    assert fix in failure_fix(error)


def test_only_a_refusal_is_given_up_on_a_transient_error_never_is():
    many = sync.MAX_REFUSED_ATTEMPTS
    assert sync._gives_up(_error(422), many) and sync._gives_up(_error(404), many)
    assert not sync._gives_up(_error(403), many - 1)
    assert not sync._gives_up(_error(503), 10 * many)  # it may have landed: the marker check settles it
    assert not sync._gives_up(_error(429), 10 * many) and not sync._gives_up(_error(409), 10 * many)
