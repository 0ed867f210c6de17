"""One ticket: why deskwatch decided what it did, and what happened to it since."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from deskwatch.core.daemon.failed_updates import failure_fix
from deskwatch.core.model import Decision, Ticket
from deskwatch.core.store import TicketDetail
from deskwatch.tui import audit_text, display
from deskwatch.tui.messages import StoreChanged
from deskwatch.tui.screens.actions import ACTION_BINDINGS, TicketActions

BAR = 10  # cells
BAR_SCALE = 40.0  # points that fill a bar: the same on every ticket (a default weight is at most 40)


def when(dt: datetime | None) -> str:
    return dt.strftime("%m-%d %H:%M") if dt else "-"


def header(t: Ticket, d: Decision | None, detail: TicketDetail, now: datetime) -> Text:
    org = t.organization
    who = ", ".join(display.one_line(x) for x in (t.requester.name if t.requester else None, org.name if org else None) if x)
    value = display.money(org.annual_value) if org else ""
    text = Text.assemble((t.id, "bold"), "  ", display.one_line(t.subject), "\n")
    text.append(f"{t.status} · {t.priority or 'no priority'} · {t.channel} · {who}" + (f" ({value}/yr)" if value else ""))
    text.append(f" · assignee {t.assignee or '-'} · group {t.group or '-'} · age {display.age(t.created_at, now)}\n")
    if d is None:
        text.append("not decided yet", style="bright_black")
    else:
        label, style = display.URGENCY.get(d.recommendation, display.URGENCY[None])
        text.append(f" {d.recommendation.upper()} ", style=style)
        text.append(f" score {d.score:.0f}/100 · {d.tier}" + (f" / {d.team}" if d.team else "") + f" · confidence {d.confidence:.0%}")
        if d.needs_review:
            text.append("  needs review", style="yellow")
    ack = detail.ack
    if ack is not None and ack.acknowledged(now):
        text.append(f"\nacknowledged by {ack.acknowledged_by} at {when(ack.acknowledged_at)}", style="green")
    if ack is not None and ack.snoozed(now):
        text.append(f"\nsnoozed until {when(ack.snoozed_until)}", style="cyan")
    return text


def signals(d: Decision) -> Table:
    """Each signal's value, weight and contribution (value x weight, in score points), with a bar
    on one fixed scale (``BAR_SCALE`` points fill it) so bars compare across tickets, and its evidence."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=12, no_wrap=True)
    table.add_column(width=BAR, no_wrap=True)
    table.add_column(width=9, justify="right", no_wrap=True)
    table.add_column(width=5, justify="right", no_wrap=True)
    table.add_column(ratio=1)
    table.add_row(Text("signal", style="bright_black"), Text(f"0-{BAR_SCALE:.0f} pts", style="bright_black"),
                  Text("value×wt", style="bright_black"), Text("pts", style="bright_black"), "")
    for s in sorted(d.signals, key=lambda s: -s.contribution):
        evidence = " · ".join(s.evidence[:4])
        style = "red" if s.hard else "yellow"
        table.add_row(s.name, Text(display.bar(s.contribution, BAR_SCALE, BAR), style=style),
                      f"{s.value:.2f}×{s.weight:g}", f"{s.contribution:+.1f}",
                      Text.assemble(s.detail, (f"  {evidence}" if evidence else "", "italic bright_black")))
    return table


def sla(d: Decision, now: datetime) -> Text:
    text = Text()
    if d.sla is None:
        return Text("no SLA policy applies", style="bright_black")
    text.append(f"policy {d.sla.policy}\n")
    for t in d.sla.targets:
        state = t.state
        left = display.countdown(t.due_at, now)
        text.append(f"  {t.name:<15} ", style="bold")
        text.append(f"{state:<9}", style=display.SLA_STYLE.get(state, ""))
        text.append(f" due {when(t.due_at)}  {left:>5}  {t.elapsed_pct:.0f}% used\n")
    return text


def chain_position(step: int, total: int | None) -> str:
    """A chain step as people count it: "step 1/3" (``step`` is 0-based, as the engine keeps it)."""
    return f"step {step + 1}/{total}" if total else f"step {step + 1}"


def route(d: Decision, routing=None) -> Text:
    r = d.route
    if r is None:
        return Text(f"{d.tier}" + (f" / {d.team}" if d.team else ""), style="bright_black")
    where = r.tier + (f" / {r.team}" if r.team else "") + (f" -> {r.agent}" if r.agent else "")
    extra = " (on call)" if r.on_call else ""
    if r.chain_step is not None:
        chain = routing.chain(r.chain) if r.chain and hasattr(routing, "chain") else None
        total = len(chain.steps) if chain is not None else None
        extra += f", chain{f' {r.chain!r}' if r.chain else ''} {chain_position(r.chain_step, total)}"
    text = Text(where + extra + "\n")
    text.append(r.reason, style="bright_black")
    for reason in d.reasons:
        text.append(f"\n- {reason}")
    return text


def conversation(t: Ticket, d: Decision | None) -> Text:
    """The thread; the evidence is highlighted where the engine found it, in the customer's
    words only (agents' replies and deskwatch's own notes quote it, and are not evidence)."""
    evidence = [e for s in (d.signals if d else ()) for e in s.evidence]
    text = Text()
    for m in t.messages:
        style = {"customer": "bold cyan", "agent": "bold green"}.get(m.author, "bold")
        text.append(f"{m.author} · {when(m.created_at)}" + ("" if m.public else " · private") + "\n", style=style)
        body = display.to_text(m.body).strip()
        text.append_text(display.highlight(body, evidence) if m.author == "customer" else Text(body))
        text.append("\n\n")
    return text


def attention(d: Decision | None) -> Text:
    """Management attention (why, with the evidence, and to whom) and whether someone was paged."""
    if d is None:
        return Text("not decided yet", style="bright_black")
    r = d.route
    text = Text()
    if d.page:
        who = (r.agent if r and r.agent else None) or (r.team if r and r.team else None) or "on call"
        text.append(" PAGED ", style="bold white on red")
        text.append(f" {who}" + (f": {d.page_reason}" if d.page_reason else "") + "\n")
    if d.management is not None:
        to = (r.management if r and r.management else None) or "management (no one configured: routing.management)"
        text.append(" MANAGEMENT ", style="bold black on yellow")
        text.append(f" to {to}\n")
        for reason in d.management.reasons:
            text.append(f"- {reason}\n")
        if d.management.evidence:
            text.append("  evidence: " + " · ".join(d.management.evidence[:4]) + "\n", style="italic bright_black")
    if not text:
        return Text("no management attention, nobody paged", style="bright_black")
    text.rstrip()
    return text


def handoff_brief(store, ticket: Ticket, d: Decision | None, now: datetime) -> Text:
    """The handoff brief (core/policy/brief.py) with similar solved tickets; read-only."""
    from deskwatch.core.engine.text import new_text
    from deskwatch.core.policy.brief import build_brief, render_text

    try:
        related = [t for t in store.history(limit=20).related(ticket) if t.created_at >= now - timedelta(days=30)]
        similar = store.similar(ticket, now=now, limit=3, decision=d)
    except Exception as e:  # noqa: BLE001 - the brief is an aid: the rest of the screen still shows
        return Text(f"brief unavailable: {e}", style="bright_black")
    return Text(render_text(build_brief(ticket, d, now=now, related=related, similar=similar, clean=new_text)))


def audit(detail: TicketDetail) -> Table:
    """The last 30 records, each a sentence (wrapped under its time, never cut)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=11, no_wrap=True, style="bright_black")
    table.add_column(ratio=1)
    for r in detail.audit[-30:]:
        table.add_row(when(r.at), audit_text.sentence(r))
    if not detail.audit:
        return Text("nothing recorded yet", style="bright_black")  # type: ignore[return-value]
    return table


def update_what(u) -> str:
    bits = []
    if u.priority:
        bits.append(f"priority {u.priority}")
    if u.group:
        bits.append(f"group {u.group}")
    if u.assignee:
        bits.append(f"assignee {u.assignee}")
    if u.tags_add:
        bits.append("tags +" + ",".join(u.tags_add))
    if u.status:
        bits.append(f"status {u.status}")
    if u.private_note:
        bits.append("note: " + display.clip((display.to_text(u.private_note).splitlines() or [""])[0], 40))
    return "; ".join(bits) or "update"


def outbox(detail: TicketDetail) -> Text:
    """Per queued update: pending, reached the helpdesk, or failed, why and the fix."""
    text = Text()
    for item in detail.outbox:
        text.append(f"{when(item.created_at)} ", style="bright_black")
        text.append(f"{item.summary}", style=display.OUTBOX_STYLE.get(item.state, ""))
        text.append(f"  {update_what(item.update)}\n")
        if item.state == "failed":
            text.append(f"  fix: {failure_fix(item.error or '')} (t: send it again)\n", style="bright_black")
    return text or Text("nothing sent to the helpdesk (write-back off, or no action yet)", style="bright_black")


class TicketScreen(TicketActions, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="ticket.back", tooltip="Back to the queue"),
        Binding("backspace", "back", "Back", id="ticket.back2", show=False, tooltip="Back to the queue"),
        Binding("j", "scroll_down", "Down", id="ticket.down", show=False, tooltip="Scroll down"),
        Binding("k", "scroll_up", "Up", id="ticket.up", show=False, tooltip="Scroll up"),
        *ACTION_BINDINGS,
        Binding("l", "tone", "Tone", id="ticket.tone", show=False,
                tooltip="Label a customer message's tone (negative, neutral, positive) for the tone model"),
        Binding("t", "retry", "Retry", id="ticket.retry", show=False, tooltip="Send a failed helpdesk update of this ticket again"),
    ]

    def __init__(self, ticket_id: str) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.detail: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ticket"):
            yield Static(id="t-header")
            yield Static("[b]Attention[/b]", classes="section", id="t-attention-label")
            yield Static(id="t-attention")
            yield Static("[b]Signals[/b]", classes="section")
            yield Static(id="t-signals")
            yield Static("[b]Sentiment[/b] (customer messages, oldest to newest)", classes="section", id="t-sentiment-label")
            yield Sparkline([], id="t-sentiment")
            yield Static("[b]SLA[/b]", classes="section")
            yield Static(id="t-sla")
            yield Static("[b]Route[/b]", classes="section")
            yield Static(id="t-route")
            yield Static("[b]Helpdesk updates[/b]", classes="section")
            yield Static(id="t-outbox")
            yield Static("[b]Handoff brief[/b] (as of opening this screen)", classes="section")
            yield Static(id="t-brief")
            yield Static("[b]Conversation[/b]", classes="section")
            yield Static(id="t-conversation")
            yield Static("[b]Audit[/b]", classes="section")
            yield Static(id="t-audit")
        yield Footer()

    def current_ticket_id(self) -> str | None:
        return self.ticket_id

    def on_mount(self) -> None:
        self.load()
        self.show_brief()
        self.query_one("#ticket").focus()

    def load(self) -> None:
        """Read the ticket again and repaint only if something changed."""
        c = self.app.desk  # type: ignore[attr-defined]
        detail = c.store.ticket_detail(self.ticket_id)
        if detail is None:
            self.query_one("#t-header", Static).update(f"{self.ticket_id}: not in the store (deleted?)")
            return
        if detail == self.detail:
            return
        self.detail = detail
        now = c.clock()
        d = detail.latest
        self.query_one("#t-header", Static).update(header(detail.ticket, d, detail, now))
        self.query_one("#t-attention", Static).update(attention(d))
        # Only when there is some: at 80x24 every line counts.
        shown = d is not None and (d.page or d.management is not None)
        self.query_one("#t-attention-label").display = self.query_one("#t-attention").display = shown
        self.query_one("#t-signals", Static).update(signals(d) if d and d.signals else Text("no signals", style="bright_black"))
        self.query_one("#t-sla", Static).update(sla(d, now) if d else Text("-"))
        self.query_one("#t-route", Static).update(route(d, c.routing) if d else Text("-"))
        self.query_one("#t-outbox", Static).update(outbox(detail))
        self.query_one("#t-conversation", Static).update(conversation(detail.ticket, d))
        self.query_one("#t-audit", Static).update(audit(detail))
        # The engine's own reading of each customer message: the console scores nothing itself.
        self.sentiment = list(d.tones) if d is not None else []
        self.query_one("#t-sentiment", Sparkline).data = self.sentiment or [0.0]
        label = "[b]Sentiment[/b] " + ("  ".join(f"{v:+.1f}" for v in self.sentiment[-8:]) if self.sentiment else "no readings yet")
        self.query_one("#t-sentiment-label", Static).update(label)

    def show_brief(self) -> None:
        """Computed once, when the screen opens: the similar-ticket search is too heavy for every refresh."""
        if self.detail is None:
            return
        c = self.app.desk  # type: ignore[attr-defined]
        self.query_one("#t-brief", Static).update(handoff_brief(c.store, self.detail.ticket, self.detail.latest, c.clock()))

    def on_store_changed(self, message: StoreChanged) -> None:
        if any(r.ticket_id == self.ticket_id for r in message.rows):
            self.load()

    def tick(self) -> None:
        # Outbox states change without a ticket version bump: re-read (cheap, one ticket).
        self.load()
        c = self.app.desk  # type: ignore[attr-defined]
        if self.detail is not None and self.detail.latest is not None:
            text = sla(self.detail.latest, c.clock())  # countdowns move
            widget = self.query_one("#t-sla", Static)
            if isinstance(widget.content, Text) and widget.content.plain == text.plain:
                return  # unchanged: an update would repaint the screen
            widget.update(text, layout=False)

    def action_back(self) -> None:
        self.app.pop_screen()

    # Not animated: an animated scroll starts from where the animation is, so keys that arrive
    # together (a slow SSH link delivers them in one read) would move one line in all.
    def action_scroll_down(self) -> None:
        self.query_one("#ticket").scroll_relative(y=1, animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self.query_one("#ticket").scroll_relative(y=-1, animate=False, immediate=True)
