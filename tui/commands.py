"""The command palette: every action by name, and "open ticket <id>"."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

ACTIONS = (
    ("Escalate ticket", "escalate", "to a tier, team or agent"),
    ("Acknowledge ticket", "acknowledge", "take it: stops the escalation chain"),
    ("Change priority", "priority", "the helpdesk priority"),
    ("Snooze ticket", "snooze", "hold the escalation chain until a time"),
    ("Override recommendation", "override", "with a reason"),
    ("Add private note", "note", "agents only"),
)
SCREENS = (
    ("Review low-confidence decisions", "review"),
    ("Overview: escalations, SLA, sync health", "overview"),
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

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        target = self._ticket_screen()
        if target is not None:
            for name, action, help_text in ACTIONS:
                score = matcher.match(name)
                if score > 0:
                    yield Hit(score, matcher.highlight(name), partial(getattr(target, f"action_{action}")), help=help_text)
        for name, action in SCREENS:
            score = matcher.match(name)
            if score > 0:
                owner = self.app.queue_screen if action in ("filters", "mine", "clear") else self.app  # type: ignore[attr-defined]
                yield Hit(score, matcher.highlight(name), partial(getattr(owner, f"action_{action}")))
        shown = 0
        for tid in self.app.ticket_ids():  # type: ignore[attr-defined]
            if shown >= MAX_TICKETS:
                break
            label = f"Open ticket {tid}"
            score = matcher.match(label)
            if score > 0:
                shown += 1
                yield Hit(score, matcher.highlight(label), partial(self._open, tid))

    def _open(self, tid: str) -> None:
        from deskwatch.tui.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(tid))
