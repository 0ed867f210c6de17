"""Write back once: deskwatch does not react to its own write-back.

Each test replays what the helpdesk does after deskwatch escalates a ticket: it applies the
outbox (priority, group, assignee, tags, the connector's marker tag, a private note with its
marker line) and reports the ticket as changed with a new ``updated_at``. The daemon then syncs
and decides it again; only new information (a customer message, a person, time passing a
threshold) may lead to another handoff note.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from deskwatch.core import config
from deskwatch.core.connect.contract import idempotency_tag
from deskwatch.core.daemon import operations
from deskwatch.core.daemon.handoffs import count_handoffs
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.daemon.writeback import HANDOFF_PREFIX, OwnWrites, basis_of
from deskwatch.core.model import Message, Organization, Ticket, TicketUpdate
from deskwatch.core.policy import actions
from deskwatch.core.store import Store
from deskwatch.core.store.outbox import OutboxItem

from .conftest import NOW
from .store.factory import ticket

CFG = config.load(None)
SSO = ("Since this morning our team cannot sign in with SSO, the SAML login page shows an error. "
       "Can you look into it?")


def sso_ticket(tid: str = "freshdesk:14", **kw) -> Ticket:
    """freshdesk:14 of the demo: an enterprise account's SSO problem, filed as low priority."""
    t = ticket(tid, subject="SSO login broken for our team", priority="low", group=None,
               created=NOW - timedelta(hours=4), body=SSO, **kw)
    return replace(t, organization=Organization(id="org-1", name="Umbrella Health", annual_value=320000.0, tier="enterprise"))


def echo(store: Store, t: Ticket, at: datetime, *, escalation_tag: str = "escalated") -> Ticket:
    """The helpdesk applies deskwatch's pending updates as the Freshdesk connector does, and
    reports the ticket changed at ``at``. Returns the ticket as the next sync reads it."""
    items = [i for i in store.outbox_for(t.id) if i.state == "pending"]
    for item in items:
        u = item.update
        marker = idempotency_tag(u.idempotency_key)
        tags = [x for x in t.tags if x not in u.tags_remove]
        tags += [x for x in (*u.tags_add, *((escalation_tag,) if u.escalated else ()), marker) if x not in tags]
        messages = t.messages
        if u.private_note:
            html = u.private_note.replace("\n", "<br>").replace(">", "&gt;")
            messages += (Message("agent", at, f"<div>{html}<br><br>deskwatch update {marker}</div>", False, "deskwatch"),)
        t = replace(t, priority=u.priority or t.priority, group=u.group or t.group, assignee=u.assignee or t.assignee,
                    tags=tuple(tags), messages=messages, updated_at=at)
        store.mark_applied(item.key, {"outcome": "applied"}, at)
    return t


def sync(store: Store, t: Ticket, decider: Decider, at: datetime):
    result = store.save_page(t.source, [t], (), None, now=at)
    assert t.id in result.to_decide  # the helpdesk reported a change: the daemon decides it
    return decider.decide(t.id, at, write_back=True)


def handoff_notes(store: Store, tid: str) -> list[str]:
    return [i.update.private_note for i in store.outbox_for(tid) if (i.update.private_note or "").startswith(HANDOFF_PREFIX)]


def escalated_sso(tmp_path, **kw):
    store = Store(tmp_path / "d.db")
    decider = Decider(CFG, store)
    t = sso_ticket(**kw)
    store.save_page("freshdesk", [t], (), None, now=NOW)
    first = decider.decide(t.id, NOW, write_back=True)
    assert first.recommendation in actions.ESCALATING, "precondition: the SSO ticket escalates"
    assert len(handoff_notes(store, t.id)) == 1
    return store, decider, t, first


def test_own_priority_raise_does_not_re_escalate(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    assert first.sla.policy == "low" and first.sla.state == "ok"
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    assert echoed.priority in ("high", "urgent")  # deskwatch raised it; an enterprise "high" is enterprise-critical
    again = sync(store, echoed, decider, NOW + timedelta(seconds=7))
    assert len(handoff_notes(store, t.id)) == 1, "deskwatch's own raise produced a second handoff note"
    assert store.outbox_depth() == 0  # nothing new to send
    assert (again.recommendation, again.tier, again.team, again.route.agent) == (
        first.recommendation, first.tier, first.team, first.route.agent)
    assert again.sla.policy == "low" and again.sla.state == "ok"  # not breached by deskwatch's own raise


def test_after_the_echo_the_sla_policy_comes_from_the_priority_before_the_raise(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    sync(store, echoed, decider, NOW + timedelta(seconds=7))
    later = NOW + timedelta(minutes=20)
    nudge = Message("customer", later, "Just checking in, any news on this?", True, "cust-1")
    d = sync(store, replace(echoed, messages=(*echoed.messages, nudge), updated_at=later), decider, later)
    assert d.sla.policy == "low"
    assert len(handoff_notes(store, t.id)) == 1


def test_own_assignment_does_not_count_toward_load(tmp_path):
    """freshdesk:13 of the demo: after deskwatch assigned Dev, Dev's count included the ticket
    itself, so the next decision found "everyone eligible in Technical at max_open"."""
    store = Store(tmp_path / "d.db")
    busy = [ticket(f"freshdesk:{100 + i}", assignee="Elif", group="Technical") for i in range(8)]
    busy += [ticket(f"freshdesk:{200 + i}", assignee="Dev", group="Technical") for i in range(7)]
    store.save_page("freshdesk", busy, (), None, now=NOW)
    t = sso_ticket("freshdesk:13")
    store.save_page("freshdesk", [t], (), None, now=NOW)
    first = Decider(CFG, store).decide(t.id, NOW, write_back=True)
    assert first.team == "Technical" and first.route.agent == "Dev", "precondition: Dev has room for one more"

    # Stored as assigned to Dev (deskwatch's write-back reached the helpdesk): Dev is at 8/8 with
    # this very ticket. A fresh daemon routing it again keeps it with Dev.
    assigned = replace(t, assignee="Dev", group="Technical", updated_at=NOW + timedelta(seconds=7))
    store.save_page("freshdesk", [assigned], (), None, now=NOW + timedelta(seconds=7))
    assert store.load_counts().by_agent["Dev"] == 8
    d = Decider(CFG, Store(tmp_path / "d.db")).decide_many([t.id], NOW + timedelta(seconds=7), write_back=True)[0]
    assert d.route.agent == "Dev" and "max_open" not in d.route.reason


def test_own_assignment_echo_keeps_the_agent_and_writes_no_second_note(tmp_path):
    store = Store(tmp_path / "d.db")
    busy = [ticket(f"freshdesk:{100 + i}", assignee="Elif", group="Technical") for i in range(8)]
    busy += [ticket(f"freshdesk:{200 + i}", assignee="Dev", group="Technical") for i in range(7)]
    store.save_page("freshdesk", busy, (), None, now=NOW)
    t = sso_ticket("freshdesk:13")
    store.save_page("freshdesk", [t], (), None, now=NOW)
    decider = Decider(CFG, store)
    first = decider.decide(t.id, NOW, write_back=True)
    assert first.route.agent == "Dev"
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    assert echoed.assignee == "Dev"
    d = sync(store, echoed, decider, NOW + timedelta(seconds=7))
    assert d.route.agent == "Dev"
    assert len(handoff_notes(store, t.id)) == 1


def test_a_new_customer_message_is_decided_and_a_new_note_only_if_the_recommendation_rose(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    sync(store, echoed, decider, NOW + timedelta(seconds=7))
    decisions = len(store.decisions_for(t.id))

    at = NOW + timedelta(minutes=30)
    same = Message("customer", at, "Any news on the SSO problem? Please look into it.", True, "cust-1")
    same_t = replace(echoed, messages=(*echoed.messages, same), updated_at=at)
    d = sync(store, same_t, decider, at)
    assert len(store.decisions_for(t.id)) == decisions + 1 and d.decided_at == at  # new information: decided afresh
    assert d.recommendation == first.recommendation, "precondition: the follow-up does not change the urgency"
    assert (d.tier, d.team, d.route.agent) == (first.tier, first.team, first.route.agent)  # not moved on by the round robin
    assert len(handoff_notes(store, t.id)) == 1

    at2 = NOW + timedelta(minutes=40)
    worse = Message("customer", at2, "This is now a production outage: all 300 of our users are locked out and "
                    "nobody can work. This is urgent, we are losing money every hour and considering cancelling.",
                    True, "cust-1")
    d2 = sync(store, replace(same_t, messages=(*same_t.messages, worse), updated_at=at2), decider, at2)
    assert actions.ESCALATING.index(d2.recommendation) > actions.ESCALATING.index(first.recommendation), \
        "precondition: an outage for all users raises the recommendation"
    notes = handoff_notes(store, t.id)
    assert len(notes) == 2 and notes[1].startswith(f"{HANDOFF_PREFIX} {d2.recommendation}")


def test_a_chain_step_that_leaves_the_ticket_where_it_is_writes_no_second_note(tmp_path):
    """Step 2 of the default chain assigns tier2: the SSO ticket is there already, with Dev.
    The round robin must not hand it to Elif with a second note; step 3 (management) moves it."""
    store, decider, t, first = escalated_sso(tmp_path)
    assert first.tier == "tier2" and first.route.chain_step == 0
    echo(store, t, NOW + timedelta(seconds=7))

    def would_write() -> int:  # the test config names no sources, so the chain decides in shadow mode
        return sum(1 for a in store.audit_for(t.id) if a.kind == "shadow")

    assert decider.advance_chains(NOW + timedelta(minutes=16)) == 1
    d = store.latest_decision(t.id)
    assert d.route.chain_step == 1 and (d.team, d.route.agent) == (first.team, first.route.agent)
    assert would_write() == 0
    assert decider.advance_chains(NOW + timedelta(minutes=50)) == 1
    d3 = store.latest_decision(t.id)
    assert d3.route.chain_step == 2 and d3.route.management  # management is brought in; the ticket stays
    assert would_write() == 1  # the chain moved it: management hears of it


def test_acknowledging_twice_writes_one_note(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    echo(store, t, NOW + timedelta(seconds=7))
    a = operations.acknowledge(store, t.id, "dana", NOW + timedelta(minutes=1), write_back=True)
    b = operations.acknowledge(store, t.id, "dana", NOW + timedelta(minutes=2), write_back=True)
    notes = [i for i in store.outbox_for(t.id) if (i.update.private_note or "").startswith("Acknowledged")]
    assert len(a) == 1 and b == [] and len(notes) == 1
    assert store.ack_state(t.id).acknowledged_by == "dana"
    assert [r.kind for r in store.audit_for(t.id)].count("acknowledge") == 2  # both are on record


def test_override_after_escalating_by_hand_keeps_the_chosen_team_and_agent(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    sync(store, echoed, decider, NOW + timedelta(seconds=7))
    assert first.team != "Engineering"
    operations.escalate(store, t.id, tier="tier3", team="Engineering", agent="Farah", actor="dana",
                        reason="SAML bug after the release", now=NOW + timedelta(minutes=2), write_back=True)
    operations.override(store, t.id, "priority", "not a night page, but keep it with Engineering", "dana",
                        NOW + timedelta(minutes=3), write_back=True)
    at = NOW + timedelta(minutes=30)
    nudge = Message("customer", at, "Just checking in, any news on this?", True, "cust-1")
    current = echo(store, echoed, at)
    d = sync(store, replace(current, messages=(*current.messages, nudge), updated_at=at), decider, at)
    assert (d.tier, d.team, d.route.agent) == ("tier3", "Engineering", "Farah")
    assert d.recommendation == "priority"
    assert "dana" in d.reasons[0]


def test_lossy_echo_is_recognized_salesforce_priority_and_owner():
    """Salesforce stores "urgent" as High and keeps group and assignee in one owner field."""
    t = replace(sso_ticket("salesforce:5005g0000000000014"), group="Support", priority="normal")
    u = TicketUpdate(t.id, t.source, "00c892cececb0000", priority="urgent", group="Engineering", assignee="Elif",
                     tags_add=("deskwatch-escalated",), escalated=True)
    item = OutboxItem(u.idempotency_key, t.id, t.source, u, "applied", 1, None, None, NOW, NOW, None, basis_of(t))
    own = OwnWrites.from_outbox([item])
    marker = Message("system", NOW, "[deskwatch dw-00c892cececb]\n- priority -> High\n- owner -> user Elif", False)
    echoed = replace(t, priority="high", group=None, assignee="Elif", messages=(*t.messages, marker),
                     updated_at=NOW + timedelta(seconds=5))
    assert own.fingerprint(echoed) == own.fingerprint(t)
    assert own.strip(echoed).priority == "normal"
    # A person's change is not deskwatch's: a tag deskwatch did not write is new.
    assert own.fingerprint(replace(echoed, tags=("vip",))) != own.fingerprint(t)


def test_demo_count_finds_a_second_note_without_new_information(tmp_path):
    store, decider, t, first = escalated_sso(tmp_path)
    assert count_handoffs(store).repeated == ()
    # A second note planned from the same facts (as the old daemon did on its own echo).
    again = replace(first, decided_at=NOW + timedelta(seconds=7))
    store.record_decision(again)
    other = replace(again, route=replace(again.route, agent="Elif"))
    for u in actions.plan_updates(t, other, first, True):
        store.enqueue(u, NOW + timedelta(seconds=7))
    count = count_handoffs(store)
    assert (count.tickets, count.notes, count.again, count.repeated_tickets) == (1, 2, 1, 1)
    assert "1 with a second note without new information" in count.summary()


def test_what_a_person_changes_in_the_helpdesk_is_not_taken_for_the_echo():
    t = sso_ticket()
    u = TicketUpdate(t.id, t.source, "3f2a9c1e0b7d4444", priority="high", group="Technical", assignee="Dev",
                     tags_add=("deskwatch-escalated", "deskwatch-tier2"), escalated=True)
    note = TicketUpdate(t.id, t.source, "9a8b7c6d5e4f3333", private_note="ok")
    own = OwnWrites.from_outbox([
        OutboxItem(x.idempotency_key, t.id, t.source, x, "applied", 1, None, None, NOW, NOW, None, basis_of(t)) for x in (u, note)
    ])
    echoed = replace(t, priority="high", group="Technical", assignee="Dev",
                     tags=("deskwatch-escalated", "deskwatch-tier2", "escalated", "dw-3f2a9c1e0b7d"))
    assert own.fingerprint(echoed) == own.fingerprint(t) and own.strip(echoed).priority == "low"
    person = Message("agent", NOW, "ok", False, "agent-7")  # a person's own short private note
    for changed in (replace(echoed, priority="urgent"), replace(echoed, assignee="Elif"),
                    replace(echoed, tags=(*echoed.tags, "vip")), replace(echoed, messages=(*echoed.messages, person))):
        assert own.fingerprint(changed) != own.fingerprint(t)
    assert own.strip(replace(echoed, priority="urgent")).priority == "urgent"
