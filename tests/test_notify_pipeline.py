"""The pipeline queues notifications for what it decides; a helpdesk reply stops the pages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.daemon import notify_send
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.model import Message
from deskwatch.core.store import Store

from .conftest import NOW
from .store.factory import ticket

GDPR = "Under the GDPR I request the deletion of all personal data you hold about me."


def setup(tmp_path):
    data = config.merge(config.default_data(), {"notify": {"channels": {"default": "json://127.0.0.1:9/never"},
                                                           "events": ["notify_step"]}})
    cfg = config.parse_data(data, "test")
    store = Store(tmp_path / "d.db")
    t = ticket("zendesk:7", body=GDPR, created=NOW - timedelta(minutes=5))
    store.save_page("zendesk", [t], (), {"cursor": "x"}, now=NOW)
    return cfg, store, t


def test_a_chain_notify_step_is_queued_once_per_step(tmp_path):
    cfg, store, _ = setup(tmp_path)
    decider = Decider(cfg, store)
    d = decider.decide("zendesk:7", NOW, write_back=False)
    assert d.route.chain_step == 0
    [n] = store.notifications_for("zendesk:7")
    assert n.event == "notify_step" and n.channel == "default[0]" and n.state == "pending"
    assert "step 1 of escalation chain default" in n.body and "zendesk:7" in n.title
    decider.decide("zendesk:7", NOW + timedelta(minutes=1), write_back=False)
    assert len(store.notifications_for("zendesk:7")) == 1


def test_an_agent_reply_in_the_helpdesk_cancels_pending_notifications(tmp_path):
    cfg, store, t = setup(tmp_path)
    Decider(cfg, store).decide("zendesk:7", NOW, write_back=False)
    reply = Message("agent", NOW + timedelta(minutes=3), "We are on it.", True, "agent-42")
    store.save_page("zendesk", [replace(t, messages=(*t.messages, reply), updated_at=reply.created_at)], (),
                    {"cursor": "y"}, now=NOW + timedelta(minutes=4))
    Decider(cfg, store).decide("zendesk:7", NOW + timedelta(minutes=4), write_back=False)
    sent = []
    delivered = asyncio.run(notify_send.deliver_due(store, cfg.notify, lambda: NOW + timedelta(minutes=5),
                                                    sender=lambda *a: sent.append(a) or (True, "")))
    assert delivered == 0 and sent == []
    [n] = store.notifications_for("zendesk:7")
    assert n.state == "cancelled" and "agent-42" in (n.error or "")
