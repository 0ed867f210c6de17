"""The actions on a ticket, shared by the queue and ticket screens.

Each action collects input in a ``FormScreen`` and calls exactly one function of
``deskwatch.core.daemon.operations``, which validates, writes the audit record and queues the helpdesk
update when write-back is on. The console adds no rule of its own beyond reading what was typed.
"""

from __future__ import annotations

from textual.binding import Binding

from deskwatch.core.daemon import operations
from deskwatch.core.model import PRIORITIES, RECOMMENDATIONS, TIERS
from deskwatch.tui import display
from deskwatch.tui.messages import ActionDone
from deskwatch.tui.report_view import what_changed
from deskwatch.tui.screens.form import Field, FormScreen

ACTION_BINDINGS = [
    Binding("e", "escalate", "Escalate", id="ticket.escalate", tooltip="Escalate to a tier, team or agent"),
    Binding("p", "priority", "Priority", id="ticket.priority", tooltip="Change the helpdesk priority", show=False),
    Binding("a", "acknowledge", "Ack", id="ticket.acknowledge", tooltip="Take the ticket: stops the escalation chain (and assigns it to you)"),
    Binding("A", "assign", "Assign", id="ticket.assign", tooltip="Assign to a person or a team", show=False),
    Binding("z", "snooze", "Snooze", id="ticket.snooze", tooltip="Hold the escalation chain until a time", show=False),
    Binding("o", "override", "Override", id="ticket.override", tooltip="Override the recommendation, with a reason", show=False),
    Binding("n", "note", "Note", id="ticket.note", tooltip="Add a private note", show=False),
]


class TicketActions:
    """Mixin for a screen that has a current ticket (``current_ticket_id()``)."""

    def current_ticket_id(self) -> str | None:  # pragma: no cover - each screen defines it
        raise NotImplementedError

    @property
    def desk(self):
        return self.app.desk  # type: ignore[attr-defined]

    def _target(self) -> str | None:
        tid = self.current_ticket_id()
        if tid is None:
            self.app.notify("no ticket selected", severity="warning")  # type: ignore[attr-defined]
        return tid

    def _source(self, tid: str) -> str:
        return tid.split(":", 1)[0]

    def _done(self, tid: str, kind: str, queued: list) -> None:
        c = self.desk
        where = "queued for the helpdesk" if queued else ("recorded" if not c.writes_back(self._source(tid)) else "recorded (nothing to send)")
        self.app.notify(f"{kind} {tid}: {where}", timeout=4)  # type: ignore[attr-defined]
        self.app.post_message(ActionDone(tid, kind, len(queued)))  # type: ignore[attr-defined]
        self.app.poll_store()  # type: ignore[attr-defined]

    def _form(self, title: str, fields: list[Field], run, preview=None) -> None:
        self.app.push_screen(FormScreen(title, fields, run, preview))  # type: ignore[attr-defined]

    def action_escalate(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk

        def run(v: dict[str, str]) -> None:
            queued = operations.escalate(
                c.store, tid, tier=v["tier"] or None, team=v["team"] or None, agent=v["agent"] or None,
                actor=c.actor, reason=v["reason"], now=c.clock(), write_back=c.writes_back(self._source(tid)),
                routing_config=c.routing,
            )
            self._done(tid, "escalated", queued)

        # With teams in the config, pick from them (no typos reach the helpdesk); else type.
        self._form(f"Escalate {tid}", [
            Field("tier", "Tier", TIERS), Field("team", "Team", c.teams(), placeholder="e.g. billing"),
            Field("agent", "Agent", c.agents(), placeholder="e.g. ana@example.com"),
            Field("reason", "Reason", placeholder="why, for the audit log and the handoff note", required=True),
        ], run, preview=lambda v: operations.escalation_changes(
            c.store, tid, tier=v["tier"] or None, team=v["team"] or None, agent=v["agent"] or None, actor=c.actor))

    def action_priority(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk

        def run(v: dict[str, str]) -> None:
            queued = operations.change_priority(c.store, tid, v["priority"], actor=c.actor, now=c.clock(), reason=v["reason"],
                                                write_back=c.writes_back(self._source(tid)))
            self._done(tid, f"priority {v['priority']}", queued)

        self._form(f"Priority of {tid}", [Field("priority", "Priority", PRIORITIES, required=True), Field("reason", "Reason")], run)

    def action_acknowledge(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk
        try:
            queued = operations.acknowledge(c.store, tid, c.actor, c.clock(), write_back=c.writes_back(self._source(tid)),
                                            assign=c.acknowledge_assigns)
        except operations.OperationError as e:
            self.app.notify(str(e), severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        self._done(tid, f"acknowledged{' and assigned to ' + c.actor if c.acknowledge_assigns else ''}", queued)

    def action_assign(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk
        latest = c.store.latest_decision(tid)
        ticket = c.store.get_ticket(tid)
        team = (latest.route.team if latest and latest.route and latest.route.team else None) or (latest.team if latest else None) \
            or (ticket.group if ticket else None)

        def run(v: dict[str, str]) -> None:
            queued = operations.assign(c.store, tid, agent=v["agent"] or None, team=v["team"] or None, actor=c.actor,
                                       now=c.clock(), reason=v["reason"], write_back=c.writes_back(self._source(tid)),
                                       routing_config=c.routing)
            self._done(tid, "assigned to " + " in ".join(x for x in (v["agent"], v["team"]) if x), queued)

        # The ticket's team's members come first: the usual hand-over is within the team.
        self._form(f"Assign {tid}", [
            Field("agent", "Person", c.agents_for(team), placeholder="e.g. ana@example.com"),
            Field("team", "Team", c.teams(), placeholder="e.g. billing (the helpdesk group)"),
            Field("reason", "Reason"),
        ], run)

    def action_snooze(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk

        def run(v: dict[str, str]) -> None:
            now = c.clock()
            until = display.parse_until(v["until"], now)
            if until - now > c.max_snooze:
                # A forgotten long snooze hides a live escalation: past the limit, acknowledge or override.
                raise ValueError(f"snooze at most {display.span(c.max_snooze)} (until {now + c.max_snooze:%Y-%m-%d %H:%M}Z); "
                                 "for longer, override the recommendation, or raise [tui] max_snooze")
            queued = operations.snooze(c.store, tid, until, c.actor, now, reason=v["reason"])
            self._done(tid, f"snoozed until {until:%Y-%m-%d %H:%M}Z", queued)

        self._form(f"Snooze {tid}", [
            Field("until", "Until", placeholder=f"30m, 2h, 1d or 2026-11-24T09:00Z (at most {display.span(c.max_snooze)})", required=True),
            Field("reason", "Reason"),
        ], run)

    def action_override(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk

        def run(v: dict[str, str]) -> None:
            queued = operations.override(c.store, tid, v["recommendation"], v["reason"], c.actor, c.clock(),
                                         write_back=c.writes_back(self._source(tid)))
            self._done(tid, f"overridden to {v['recommendation']}", queued)

        self._form(f"Override the recommendation for {tid}", [
            Field("recommendation", "Recommendation", RECOMMENDATIONS, required=True),
            Field("reason", "Reason", placeholder="why the engine is wrong here", required=True),
        ], run)

    def action_note(self) -> None:
        tid = self._target()
        if tid is None:
            return
        c = self.desk

        def run(v: dict[str, str]) -> None:
            queued = operations.add_note(c.store, tid, v["text"], c.actor, c.clock(), write_back=c.writes_back(self._source(tid)))
            self._done(tid, "note added", queued)

        self._form(f"Private note on {tid}", [Field("text", "Note", placeholder="only agents see it (Enter: new line, Ctrl+S: add)", required=True, multiline=True)], run)

    def action_tone(self) -> None:
        """Label a customer message's tone (the latest by default) for the learned tone model."""
        tid = self._target()
        if tid is None:
            return
        c = self.desk
        ticket = c.store.get_ticket(tid)
        indexes = operations.customer_messages(ticket) if ticket is not None else []
        if not indexes:
            self.app.notify(f"{tid} has no customer message to label", severity="warning")  # type: ignore[attr-defined]
            return
        choices = {message_choice(i, ticket.messages[i]): i for i in reversed(indexes)}  # newest first

        def run(v: dict[str, str]) -> None:
            operations.label_tone(c.store, tid, v["tone"], c.actor, c.clock(), message=choices.get(v["message"]))
            self._done(tid, f"tone labelled {v['tone']}", [])

        self._form(f"Tone of a customer message on {tid}", [
            Field("message", "Message", tuple(choices), value=next(iter(choices)), required=True),
            Field("tone", "Tone", operations.TONES, required=True),
        ], run)

    def action_retry(self) -> None:
        """Send a failed helpdesk update of this ticket again (a choice when several failed)."""
        tid = self._target()
        if tid is None:
            return
        c = self.desk
        failed = [i for i in reversed(c.store.outbox_for(tid)) if i.state == "failed"]  # newest first
        if not failed:
            self.app.notify(f"no failed helpdesk update on {tid}", severity="warning")  # type: ignore[attr-defined]
            return

        def retry(key: str) -> None:
            item = operations.retry_update(c.store, key, c.actor, c.clock())
            self.app.notify(f"update for {item.ticket_id} queued again: the daemon sends it on its next round", timeout=4)  # type: ignore[attr-defined]
            self.app.post_message(ActionDone(tid, "retried", 1))  # type: ignore[attr-defined]

        if len(failed) == 1:
            try:
                retry(failed[0].key)
            except operations.OperationError as e:
                self.app.notify(str(e), severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        choices = {f"{i.created_at:%m-%d %H:%M} {display.clip(what_changed(i.update), 30)}: "
                   f"{display.clip(display.one_line(i.error or ''), 30)}": i.key for i in failed}
        self._form(f"Retry a failed update of {tid}", [
            Field("update", "Update", tuple(choices), value=next(iter(choices)), required=True),
        ], lambda v: retry(choices[v["update"]]))


def message_choice(index: int, message) -> str:
    """A customer message as the tone form lists it: its number, time and first words."""
    words = display.clip(display.one_line(display.to_text(message.body)), 40)
    return f"#{index + 1} {message.created_at:%m-%d %H:%M} {words}"
