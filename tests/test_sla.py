"""SLA policies and clocks, with a pinned clock and due times worked out by hand.

The default "business" calendar is Europe/London, Mon-Fri 09:00-17:30 (510 minutes a day),
GB/ENG bank holidays. In November-March London time equals UTC, which keeps the arithmetic
in the comments short.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import tomli_w

from deskwatch.core import config as config_mod
from deskwatch.core.policy import sla
from deskwatch.core.model import Message, Organization, StatusChange, Ticket
from deskwatch.core.model.settings import ConfigError, Section

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ticket(
    created: datetime,
    messages: list[tuple[str, datetime] | tuple[str, datetime, bool]] | None = None,
    status: str = "open",
    priority: str | None = "normal",
    updated: datetime | None = None,
    history: list[tuple[str, datetime]] = (),
    tier: str | None = None,
    channel: str = "email",
    tags: tuple[str, ...] = (),
) -> Ticket:
    msgs = messages if messages is not None else [("customer", created)]
    return Ticket(
        id="zendesk:1",
        source="zendesk",
        channel=channel,
        subject="Export fails",
        status=status,
        priority=priority,
        created_at=created,
        updated_at=updated or max([created, *(m[1] for m in msgs)]),
        messages=tuple(
            Message(author=m[0], created_at=m[1], body="...", public=m[2] if len(m) > 2 else True) for m in msgs
        ),
        organization=Organization(name="Acme", tier=tier) if tier else None,
        tags=tags,
        status_history=tuple(StatusChange(s, at) for s, at in history),
    )


def parsed(data: dict) -> sla.SlaConfig:
    """``data`` as the [sla] table of a user file, merged over the defaults as config.load does."""
    return sla.parse(Section(config_mod.merge(sla.DEFAULTS, data), "sla", "config.toml"))


def defaults() -> sla.SlaConfig:
    return sla.parse(Section({}, "sla", "config.toml"))


def custom(**targets: int) -> sla.SlaConfig:
    """The default calendar with one catch-all policy of the given business-minute targets."""
    policy = {"name": "test", **{k: {"minutes": v} for k, v in targets.items()}}
    return parsed({"policies": [policy]})


def target(status, name):
    found = [t for t in status.targets if t.name == name]
    assert found, f"no {name} target in {status}"
    return found[0]


# -- first response ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, state, pct",
    [
        # Created Mon 23 Nov 08:00, before opening: the clock starts at 09:00.
        (utc(2026, 11, 23, 10), "ok", 25.0),  # 09:00-10:00 = 60 of 240
        (utc(2026, 11, 23, 12), "warning", 75.0),  # 180 of 240 reaches the 75 % warning line
        (utc(2026, 11, 23, 13, 30), "breached", 112.5),  # 270 of 240
    ],
)
def test_first_response_states_under_the_normal_policy(now, state, pct):
    st = sla.evaluate(ticket(utc(2026, 11, 23, 8)), defaults(), now)
    assert st.policy == "normal"
    fr = target(st, "first_response")
    # Due: 09:00 + 240 business minutes = 13:00.
    assert fr.due_at == utc(2026, 11, 23, 13)
    assert (fr.state, fr.elapsed_pct, fr.minutes, fr.business) == (state, pct, 240, True)


def test_first_response_met_by_a_public_agent_reply_only():
    created = utc(2026, 11, 23, 8)
    msgs = [("customer", created), ("agent", utc(2026, 11, 23, 11), False), ("agent", utc(2026, 11, 23, 12, 30))]
    fr = target(sla.evaluate(ticket(created, msgs), defaults(), utc(2026, 11, 23, 15)), "first_response")
    # The 11:00 private note does not count; the 12:30 reply does: 210 of 240 = 87.5 %.
    assert (fr.state, fr.elapsed_pct, fr.due_at) == ("met", 87.5, utc(2026, 11, 23, 13))


def test_first_response_over_a_weekend_high_priority():
    st = sla.evaluate(ticket(utc(2026, 11, 27, 16), priority="high"), defaults(), utc(2026, 11, 28, 12))
    fr = target(st, "first_response")
    # 120 business minutes from Fri 16:00: 90 on Friday, then Mon 30 Nov 09:00 + 30.
    assert fr.due_at == utc(2026, 11, 30, 9, 30)
    # On Saturday noon only the 90 Friday minutes have passed: 75 % -> warning.
    assert (fr.state, fr.elapsed_pct) == ("warning", 75.0)


def test_urgent_runs_on_calendar_minutes_even_at_the_weekend():
    st = sla.evaluate(ticket(utc(2026, 11, 28, 12), priority="urgent"), defaults(), utc(2026, 11, 28, 13, 30))
    fr = target(st, "first_response")
    # Saturday 12:00 + 60 calendar minutes = 13:00; at 13:30 that is 150 %.
    assert (fr.due_at, fr.state, fr.elapsed_pct, fr.business) == (utc(2026, 11, 28, 13), "breached", 150.0, False)


def test_first_response_across_bank_holidays():
    st = sla.evaluate(ticket(utc(2026, 12, 24, 15)), defaults(), utc(2026, 12, 28, 12))
    fr = target(st, "first_response")
    # 240 from Thu 24 Dec 15:00: 150 until 17:30; Fri 25 Christmas, weekend, Mon 28 Boxing Day
    # (observed); Tue 29 09:00 + 90 = 10:30. On Mon 28 noon still 150 of 240 = 62.5 %.
    assert (fr.due_at, fr.state, fr.elapsed_pct) == (utc(2026, 12, 29, 10, 30), "ok", 62.5)


def test_first_response_across_the_london_spring_dst_switch():
    st = sla.evaluate(ticket(utc(2026, 3, 27, 16), priority="high"), defaults(), utc(2026, 3, 30, 8, 15))
    fr = target(st, "first_response")
    # 120 from Fri 27 Mar 16:00 GMT: 90 on Friday; Mon 30 Mar opens 09:00 BST = 08:00 UTC; + 30.
    # At 08:15 UTC: 90 + 15 = 105 of 120 = 87.5 %.
    assert (fr.due_at, fr.state, fr.elapsed_pct) == (utc(2026, 3, 30, 8, 30), "warning", 87.5)


# -- pauses and reopening ----------------------------------------------------------------------

MON_9 = utc(2026, 11, 23, 9)
PENDING_HISTORY = [("open", MON_9), ("pending", utc(2026, 11, 23, 10)), ("open", utc(2026, 11, 23, 14))]


def test_pending_pauses_the_resolution_clock():
    t = ticket(MON_9, history=PENDING_HISTORY, updated=utc(2026, 11, 23, 14))
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 23, 15)), "resolution")
    # Counted: 09:00-10:00 (60) + 14:00-15:00 (60) = 120 of 480 = 25 %.
    # Due: 60 used before the pause, 420 left from 14:00: 210 until 17:30, Tue 09:00 + 210 = 12:30.
    assert (res.state, res.elapsed_pct, res.due_at) == ("ok", 25.0, utc(2026, 11, 24, 12, 30))


def test_while_pending_the_target_is_paused_with_no_due_time():
    t = ticket(MON_9, status="pending", history=PENDING_HISTORY[:2], updated=utc(2026, 11, 23, 10))
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 23, 12)), "resolution")
    assert (res.state, res.elapsed_pct, res.due_at) == ("paused", 12.5, None)  # 60 of 480


def test_pending_without_history_is_paused_since_updated_at():
    t = ticket(MON_9, status="on_hold", updated=utc(2026, 11, 23, 10))
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 24, 12)), "resolution")
    assert (res.state, res.elapsed_pct, res.due_at) == ("paused", 12.5, None)


def test_pending_then_on_hold_is_one_pause():
    hist = [("pending", utc(2026, 11, 23, 10)), ("on_hold", utc(2026, 11, 23, 11)), ("open", utc(2026, 11, 23, 14))]
    t = ticket(MON_9, history=hist)
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 23, 15)), "resolution")
    assert (res.elapsed_pct, res.due_at) == (25.0, utc(2026, 11, 24, 12, 30))  # as in the pending case


def test_a_target_breached_before_the_pause_stays_breached():
    t = ticket(MON_9, status="pending", history=[("pending", utc(2026, 11, 23, 13))])
    fr = target(sla.evaluate(t, custom(first_response=60), utc(2026, 11, 23, 15)), "first_response")
    # 09:00-13:00 = 240 of 60 before going pending; due was 10:00.
    assert (fr.state, fr.elapsed_pct, fr.due_at) == ("breached", 400.0, utc(2026, 11, 23, 10))


def test_solved_is_met_and_reopening_resumes_resolution():
    solved = [("solved", utc(2026, 11, 23, 11))]
    t = ticket(MON_9, status="solved", history=solved)
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 23, 15)), "resolution")
    # Solved at 11:00 after 120 of 480; the due time as it stood: 09:00 + 480 = 17:00.
    assert (res.state, res.elapsed_pct, res.due_at) == ("met", 25.0, utc(2026, 11, 23, 17))

    reopened = solved + [("open", utc(2026, 11, 24, 10))]
    t = ticket(MON_9, status="open", history=reopened)
    res = target(sla.evaluate(t, custom(resolution=480), utc(2026, 11, 24, 11)), "resolution")
    # Mon 09:00-11:00 (120) + Tue 10:00-11:00 (60) = 180 of 480 = 37.5 %; the solved spell
    # does not count. Due: 360 left from Tue 10:00 -> 16:00.
    assert (res.state, res.elapsed_pct, res.due_at) == ("ok", 37.5, utc(2026, 11, 24, 16))


def test_solved_without_history_stops_at_updated_at_and_stops_response_clocks():
    t = ticket(MON_9, status="solved", updated=utc(2026, 11, 23, 10))
    st = sla.evaluate(t, custom(first_response=240, resolution=480), utc(2026, 11, 30, 10))
    assert [(x.name, x.state, x.elapsed_pct) for x in st.targets] == [
        ("first_response", "met", 25.0),
        ("resolution", "met", 12.5),
    ]
    assert st.state == "met" and st.next_due is None


# -- next response -------------------------------------------------------------------------


def conversation(until: datetime | None = None) -> list:
    msgs = [
        ("customer", MON_9),
        ("agent", utc(2026, 11, 23, 9, 30)),  # first response
        ("customer", utc(2026, 11, 23, 10)),  # the customer waits from here
        ("agent", utc(2026, 11, 23, 10, 15), False),  # internal note: still waiting
        ("customer", utc(2026, 11, 23, 10, 20)),  # a follow-up does not restart the clock
    ]
    if until:
        msgs.append(("agent", until))
    return msgs


def test_next_response_runs_from_the_oldest_unanswered_customer_message():
    st = sla.evaluate(ticket(MON_9, conversation()), custom(next_response=120), utc(2026, 11, 23, 11))
    nr = target(st, "next_response")
    # From 10:00: 60 of 120 at 11:00; due 12:00.
    assert (nr.state, nr.elapsed_pct, nr.due_at) == ("ok", 50.0, utc(2026, 11, 23, 12))


def test_next_response_met_by_the_next_public_reply():
    t = ticket(MON_9, conversation(until=utc(2026, 11, 23, 11, 30)))
    nr = target(sla.evaluate(t, custom(next_response=120), utc(2026, 11, 23, 16)), "next_response")
    assert (nr.state, nr.elapsed_pct) == ("met", 75.0)  # 10:00-11:30 = 90 of 120


def test_next_response_waits_overnight_in_business_minutes():
    t = ticket(MON_9, [("customer", MON_9), ("agent", utc(2026, 11, 23, 9, 5)), ("customer", utc(2026, 11, 23, 17))])
    nr = target(sla.evaluate(t, custom(next_response=120), utc(2026, 11, 24, 9, 45)), "next_response")
    # From Mon 17:00: 30 until 17:30, Tue 09:00 + 90 = 10:30. At Tue 09:45: 30 + 45 = 75 of
    # 120 = 62.5 %, under the 75 % warning line.
    assert (nr.state, nr.elapsed_pct, nr.due_at) == ("ok", 62.5, utc(2026, 11, 24, 10, 30))


def test_no_next_response_target_before_the_first_reply():
    st = sla.evaluate(ticket(MON_9), custom(first_response=60, next_response=120), utc(2026, 11, 23, 9, 30))
    assert [x.name for x in st.targets] == ["first_response"]


# -- policies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "priority, tier, policy",
    [
        ("urgent", "enterprise", "enterprise-critical"),
        ("high", "Enterprise", "enterprise-critical"),
        ("low", "enterprise", "low"),  # the enterprise policy only covers urgent/high
        ("urgent", None, "urgent"),
        ("high", "smb", "high"),
        (None, None, "normal"),  # no priority counts as normal
        ("low", None, "low"),
    ],
)
def test_default_policies_match_first_wins(priority, tier, policy):
    st = sla.evaluate(ticket(MON_9, priority=priority, tier=tier), defaults(), utc(2026, 11, 23, 9, 10))
    assert st.policy == policy


def test_channel_and_tag_conditions_and_no_match():
    cfg = parsed(
        {
            "policies": [
                {"name": "vip-chat", "channels": ["chat"], "tags": ["vip", "gold"], "first_response": {"minutes": 5, "business": False}},
                {"name": "chat", "channels": ["chat"], "first_response": {"minutes": 15}},
            ]
        }
    )
    now = utc(2026, 11, 23, 9, 10)
    assert sla.evaluate(ticket(MON_9, channel="chat", tags=("Gold",)), cfg, now).policy == "vip-chat"
    assert sla.evaluate(ticket(MON_9, channel="chat", tags=("bronze",)), cfg, now).policy == "chat"
    assert sla.evaluate(ticket(MON_9, channel="email", tags=("vip",)), cfg, now) is None


def test_policy_warning_share_and_named_calendar():
    cfg = parsed(
        {
            "warning_at": 0.5,
            "calendars": {"nyc": {"timezone": "America/New_York", "hours": {"mon": ["09:00-17:00"]}}},
            "policies": [{"name": "us", "calendar": "nyc", "first_response": {"minutes": 120}}],
        }
    )
    # Mon 23 Nov 14:00 UTC = 09:00 EST; + 120 = 11:00 EST = 16:00 UTC. At 15:00 UTC: 60 = 50 %.
    fr = target(sla.evaluate(ticket(utc(2026, 11, 23, 14)), cfg, utc(2026, 11, 23, 15)), "first_response")
    assert (fr.due_at, fr.state) == (utc(2026, 11, 23, 16), "warning")
    assert set(cfg.calendars) == {"business", "nyc"}  # calendar tables merge with the default


def test_in_business_hours_for_routing():
    cfg = defaults()
    assert sla.in_business_hours(cfg, utc(2026, 11, 23, 10))
    assert not sla.in_business_hours(cfg, utc(2026, 11, 23, 18))
    assert not sla.in_business_hours(cfg, utc(2026, 12, 25, 10), "business")  # Christmas
    with pytest.raises(KeyError, match="unknown SLA calendar 'night'"):
        sla.in_business_hours(cfg, utc(2026, 11, 23, 10), "night")


def test_status_summary_uses_the_most_pressing_target():
    msgs = [("customer", MON_9), ("agent", utc(2026, 11, 23, 9, 20))]
    st = sla.evaluate(ticket(MON_9, msgs, priority="high"), defaults(), utc(2026, 11, 25, 9))
    # first_response met; resolution 1020 business minutes from Mon 09:00 = Tue 17:30 (2 days).
    assert [x.state for x in st.targets] == ["met", "breached"]
    assert st.state == "breached" and st.next_due == utc(2026, 11, 24, 17, 30)


# -- config -----------------------------------------------------------------------------------


def test_defaults_equal_parsed_defaults_and_survive_toml():
    assert sla.parse(Section({}, "sla")) == sla.parse(Section(sla.DEFAULTS, "sla"))
    text = tomli_w.dumps({"sla": sla.DEFAULTS})
    assert "enterprise-critical" in text
    assert config_mod.load(None).sla == defaults()


def test_user_file_policies_replace_the_default_list(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text(
        '[[sla.policies]]\nname = "all"\nresolution = { minutes = 600 }\n'
        '[sla.calendars.business]\ntimezone = "Europe/Dublin"\ncountry = "IE"\nsubdivision = ""\n'
    )
    cfg = config_mod.load(f).sla
    assert [p.name for p in cfg.policies] == ["all"]
    assert cfg.calendar().timezone == "Europe/Dublin" and cfg.calendar().country == "IE"
    assert cfg.calendar().week[0] == ((540, 1050),)  # hours kept from the defaults


@pytest.mark.parametrize(
    "data, key, words",
    [
        ({"policies": [{"name": "p", "calendar": "night", "resolution": {"minutes": 5}}]}, "sla.policies[0].calendar", 'unknown calendar "night"'),
        ({"policies": [{"name": "p", "priorities": ["critical"], "resolution": {"minutes": 5}}]}, "sla.policies[0].priorities", "critical"),
        ({"policies": [{"name": "p", "resolution": {"minutes": 0}}]}, "sla.policies[0].resolution.minutes", "at least 1"),
        ({"policies": [{"name": "p", "resolution": {"minutes": 5, "busines": False}}]}, "sla.policies[0].resolution.busines", "did you mean 'business'"),
        ({"policies": [{"name": "p"}]}, "sla.policies[0]", "no targets"),
        ({"policies": [{"name": "p", "resolution": {"minutes": 5}}, {"name": "p", "resolution": {"minutes": 5}}]}, "sla.policies[1].name", "duplicate"),
        ({"default_calendar": "night"}, "sla.default_calendar", 'unknown calendar "night"'),
        ({"warning_at": 75}, "sla.warning_at", "at most 1"),
        ({"calendars": {"business": {"timezone": "London"}}}, "sla.calendars.business.timezone", "unknown time zone"),
        ({"calendars": {"business": {"hours": {"mon": ["25:00-26:00"]}}}}, "sla.calendars.business.hours.mon", "25:00"),
    ],
)
def test_config_errors_name_the_key(data, key, words):
    with pytest.raises(ConfigError) as e:
        parsed(data)
    msg = str(e.value)
    assert msg.startswith(f"config.toml: {key}: "), msg
    assert words in msg


# -- speed-ups that must not show ------------------------------------------------------------


def test_policy_answers_are_not_shared_with_a_replaced_config():
    import dataclasses

    cfg = defaults()
    t = ticket(utc(2026, 11, 23, 9), priority="low")
    assert sla.match_policy(t, cfg).name == "low"
    other = dataclasses.replace(cfg, policies=cfg.policies[:1])
    assert sla.match_policy(t, other) is None
    assert sla.match_policy(t, cfg).name == "low"
