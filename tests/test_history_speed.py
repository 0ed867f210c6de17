"""MemoryHistory: the same answers as a scan of the batch, bounded, and linear in the batch."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from deskwatch.core.engine.history import MemoryHistory, organization_key, requester_key
from deskwatch.core.model import Message, Organization, Person, Ticket

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def batch(n: int, orgs: int, days: int, seed: int = 3) -> list[Ticket]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        created = NOW - timedelta(minutes=rnd.randrange(1, 60 * 24 * days))
        org = rnd.randrange(orgs)
        out.append(Ticket(
            id=f"t:{i}", source=rnd.choice(["zendesk", "freshdesk"]), channel="email", subject="s", status="open",
            priority=None, created_at=created, updated_at=created,
            messages=(Message(author="customer", created_at=created, body="hello"),),
            requester=Person(id=str(i), email=f"u{rnd.randrange(5)}@o{org}.example") if rnd.random() < 0.9 else None,
            organization=Organization(name=f"Org  {org}") if rnd.random() < 0.8 else None,
        ))
    return out


def scan(tickets: list[Ticket], ticket: Ticket, since: datetime | None) -> list[str]:
    """The unindexed answer: every related ticket in the window, oldest first."""
    keys = {requester_key(ticket), organization_key(ticket)} - {None}
    found = [t for t in tickets if t.id != ticket.id and keys & {requester_key(t), organization_key(t)}
             and (since is None or since <= t.created_at <= ticket.created_at)]
    return [t.id for t in sorted(found, key=lambda t: (t.created_at, t.id))]


def test_same_as_a_scan_when_the_bound_is_not_hit():
    tickets = batch(400, orgs=40, days=30)
    history = MemoryHistory(tickets, limit=10_000)
    for t in tickets[:120]:
        for since in (None, t.created_at - timedelta(days=7)):
            assert [r.id for r in history.related(t, since=since)] == scan(tickets, t, since)


def test_bound_keeps_the_most_recent_related_tickets():
    tickets = batch(600, orgs=2, days=10)
    history = MemoryHistory(tickets, limit=20)
    for t in tickets[:50]:
        since = t.created_at - timedelta(days=14)
        got = [r.id for r in history.related(t, since=since)]
        full = scan(tickets, t, since)
        assert len(got) == min(20, len(full))
        assert got == full[-len(got):] if got else not full


def test_adding_out_of_order_keeps_lookups_right():
    tickets = batch(200, orgs=3, days=5)
    history = MemoryHistory(limit=10_000)
    for t in tickets[:100]:
        history.add(t)
    probe = tickets[150]
    assert [r.id for r in history.related(probe)] == scan(tickets[:100], probe, None)
    for t in reversed(tickets[100:]):
        history.add(t)
    assert [r.id for r in history.related(probe)] == scan(tickets, probe, None)


class _Counting(list):
    """A list that counts the items read from it: lookups are measured in tickets read, not in
    seconds, so the test says the same on a busy machine (bench/history.py times it)."""

    reads = 0

    def __getitem__(self, i):
        _Counting.reads += 1
        return super().__getitem__(i)


def _tickets_read(n: int) -> int:
    tickets = batch(n, orgs=20, days=60)
    history = MemoryHistory(tickets, limit=20)
    history.related(tickets[0])  # builds the sorted indexes
    for index in history._by_key.values():
        index.tickets = _Counting(index.tickets)
    _Counting.reads = 0
    for t in tickets:
        history.related(t, since=t.created_at - timedelta(days=14))
    return _Counting.reads


def test_lookup_work_grows_linearly_with_the_batch():
    # 4x the tickets from the same 20 organizations: a scan of each organization's batch reads
    # 16x the tickets. Bounded lookups read at most limit + 1 per key (requester, organization)
    # and ticket, so the work is linear; smaller per-requester windows fill up toward the bound
    # as the batch grows, which is why the ratio sits a little above 4.
    small, large = _tickets_read(6_000), _tickets_read(24_000)
    assert large <= 24_000 * 2 * 21, large
    assert 0 < large < small * 8, (small, large)
