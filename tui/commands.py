"""The command palette (Ctrl+P): deskwatch's actions and screens by name, and "open ticket"
with each ticket's subject. With nothing typed it lists them (``discover``)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from deskwatch.tui import display

ACTIONS = (
    ("Escalate ticket", "escalate", "to a tier, team or agent"),
    ("Acknowledge ticket", "acknowledge", "take it: stops the escalation chain"),
    ("Change priority", "priority", "the helpdesk priority"),
    ("Snooze ticket", "snooze", "hold the escalation chain until a time"),
    ("Override recommendation", "override", "with a reason"),
    ("Add private note", "note", "agents only"),
)
# Listed after the screens: at 80x24 the palette shows about a dozen lines before scrolling.
MORE_ACTIONS = (
    ("Label message tone", "tone", "negative, neutral or positive: teaches the tone model"),
    ("Retry failed update", "retry", "send a failed helpdesk update of this ticket again"),
)
SCREENS = (
    ("Review low-confidence decisions", "review"),
    ("Overview: escalations, SLA, sync health, report", "overview"),
    ("Failed updates: reasons, fixes, retry", "failed"),
    ("Help: every key", "help"),
    ("Filter the queue", "filters"),
    ("Only my tickets", "mine"),
    ("Clear filters", "clear"),
)
MAX_TICKETS = 20


class DeskwatchCommands(Provider):
    def _ticket_screen(self):
        from deskwatch.tui.screens.actions import TicketActions

        screen = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else self.app.screen
        return screen if isinstance(screen, TicketActions) else None

    def _commands(self):
        """(name, callback, help) of every deskwatch command that applies here."""
        target = self._ticket_screen()
        if target is not None:
            for name, action, help_text in ACTIONS:
                yield name, partial(getattr(target, f"action_{action}")), help_text
        for name, action in SCREENS:
            owner = self.app.queue_screen if action in ("filters", "mine", "clear") else self.app  # type: ignore[attr-defined]
            yield name, partial(getattr(owner, f"action_{action}")), None
        if target is not None:
            for name, action, help_text in MORE_ACTIONS:
                yield name, partial(getattr(target, f"action_{action}")), help_text

    def _tickets(self):
        """(label, callback, help) per ticket in the queue window, most urgent first."""
        for row in self.app.ticket_rows():  # type: ignore[attr-defined]
            label = f"Open ticket {row.ticket_id}  {display.clip(row.subject, 50)}"
            who = row.organization or row.customer_name or row.customer_email or ""
            yield label, partial(self._open, row.ticket_id), display.one_line(who) or None

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)
        for shown, (label, callback, help_text) in enumerate(self._tickets()):
            if shown >= MAX_TICKETS:
                break
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        shown = 0
        for label, callback, help_text in self._tickets():
            if shown >= MAX_TICKETS:
                break
            score = matcher.match(label)
            if score > 0:
                shown += 1
                yield Hit(score, matcher.highlight(label), callback, help=help_text)

    def _open(self, tid: str) -> None:
        from deskwatch.tui.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(tid))
