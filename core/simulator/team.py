"""The simulated support team: its own habits, unknown to deskwatch, acted out on the helpdesks.

A real team has routing and escalation habits that no default config knows: which team owns
which product area, which customers its leads always escalate, which kinds of escalation it
turns down. ``Habits.seeded`` draws such habits from a seed; ``Team.act`` plays the team's
agents on the simulated helpdesks, through the same HTTP endpoints deskwatch's connectors use
(``HelpdeskApp.handle``: the API's validation, records and ``updated_at`` all apply):

- a dispatcher puts each unassigned ticket in the group of the team that owns its product area;
- a ticket deskwatch sent to another team is re-assigned to the owner (a re-route);
- an escalation of a kind the team disagrees with is turned down: the priority goes back to
  what it was and the escalation tag is removed (Salesforce: ``IsEscalated`` false);
- the leads escalate their key customers themselves (priority high, the escalation tag);
- a quiet ticket is resolved into the owning team's group, and its customer may answer the
  satisfaction survey (bad when their conversation ended unhappy).

deskwatch sees none of this except through what it syncs. ``Team.tally`` is the simulator's
own record of what the team did, which bench/learn_loop.py compares deskwatch's decisions with.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from deskwatch.core.simulator.http import HelpdeskApp, SimRequest, SimResponse
from deskwatch.core.simulator.world import Conversation

# Who may own each product area (by ticket subject); the seed picks one. The first candidate
# is the team deskwatch's default rules send most such tickets to. Areas whose tickets the
# rules route by a trigger or an upper tier (tier2/tier3) keep that team: a learned team only
# replaces the rules' default or frontline pick (core/policy/routing.py), so a habit there
# would be one no router could learn to follow.
AREA_OWNERS: dict[str, tuple[str, ...]] = {
    "How do I export a report to CSV?": ("Support", "Technical"),
    "Question about user roles": ("Support", "Security"),
    "Where can I change my billing e-mail?": ("Support", "Billing"),
    "Can I rename a workspace?": ("Support", "Technical"),
    "How to set up SSO for new users": ("Technical",),
    "Button colour is WRONG": ("Support", "Technical"),
    "Typo in the invoice footer": ("Support", "Billing"),
    "Why did the logo change?!": ("Support",),
    "Import keeps failing": ("Technical",),
    "Emails not delivered": ("Technical",),
    "Webhook not firing": ("Technical",),
    "Reports are slow again": ("Engineering",),
    "Sync keeps failing": ("Engineering",),
    "Integration broken after update": ("Engineering",),
}
# Areas whose owner follows from what the ticket is about, as deskwatch's rules say too.
KIND_OWNERS = {"outage": "Engineering", "gdpr": "Compliance", "security": "Security", "refund_churn": "Billing"}
# Kinds a team may consider not worth an escalation: how-to questions always (deskwatch
# escalates some for repeat contact: the simulated customers write often), one more by seed.
DOWN_CANDIDATES = ("howto", "angry_trivial", "loop")
ESCALATION_TAGS = ("escalated", "deskwatch-escalated")
# How conversations of each kind end, for the satisfaction survey: unhappy customers rate bad.
UNHAPPY = ("angry_trivial", "refund_churn", "renewal_risk", "loop")
HAPPY = ("howto",)


@dataclass(frozen=True)
class Habits:
    owners: dict[str, str]  # ticket subject -> owning team
    kind_owners: dict[str, str]
    escalate_orgs: frozenset[str]  # organization names whose tickets the leads always escalate
    turn_down: frozenset[str]  # conversation kinds whose escalations the team turns down

    @classmethod
    def seeded(cls, seed: int, org_names: Iterable[str]) -> "Habits":
        rng = random.Random(f"team-{seed}")
        owners = {}
        for subject, candidates in AREA_OWNERS.items():
            # At least half the areas go to someone other than the rules' pick when there is one.
            owners[subject] = rng.choice(candidates[1:]) if len(candidates) > 1 and rng.random() < 0.7 else candidates[0]
        orgs = sorted(org_names)
        return cls(owners, dict(KIND_OWNERS), frozenset(rng.sample(orgs, 2)),
                   frozenset({"howto", rng.choice(DOWN_CANDIDATES[1:])}))

    def owner(self, c: Conversation) -> str:
        """The team that owns this conversation's product area."""
        subject = c.subject[4:] if c.subject.startswith("Re: ") else c.subject
        return self.owners.get(subject) or self.kind_owners.get(c.kind) or "Support"

    def turns_down(self, c: Conversation) -> bool:
        return c.kind in self.turn_down and c.customer.org.name not in self.escalate_orgs

    def escalates(self, c: Conversation) -> bool:
        return c.customer.org.name in self.escalate_orgs and c.kind not in ("howto",)

    def describe(self) -> list[str]:
        lines = [f"owns {subject!r}: {team}" for subject, team in sorted(self.owners.items())]
        lines.append(f"leads always escalate: {', '.join(sorted(self.escalate_orgs))}")
        lines.append(f"turns down escalations of: {', '.join(sorted(self.turn_down))}")
        return lines


@dataclass
class Tally:
    """What the team did, by (helpdesk, native id): the simulator's ground truth."""

    rerouted: set[tuple[str, str]] = field(default_factory=set)  # put in the owner's group (triage or re-route)
    turned_down: set[tuple[str, str]] = field(default_factory=set)
    escalated: set[tuple[str, str]] = field(default_factory=set)
    resolved: set[tuple[str, str]] = field(default_factory=set)
    rated: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # -> (score, last customer message)


class Team:
    """The team's agents acting on the simulated helpdesks (``act`` once per simulated step)."""

    def __init__(self, habits: Habits, apps: dict[str, HelpdeskApp], seed: int = 0,
                 react: tuple[float, float] = (20, 120), resolve_after: tuple[float, float] = (3, 24),
                 rate_share: float = 0.6):
        self.habits, self.apps = habits, apps
        self.rng = random.Random(f"agents-{seed}")
        self.react, self.resolve_after, self.rate_share = react, resolve_after, rate_share
        self.tally = Tally()
        self._due: dict[tuple[str, str, str], datetime] = {}  # (helpdesk, id, action) -> when it happens
        self._sf_token: str | None = None

    # -- what the team sees -----------------------------------------------------------------
    def _tickets(self, name: str) -> list[tuple[str, Conversation]]:
        app: Any = self.apps[name]
        with app.lock:
            app.sync_world()
            return [(str(tid), c) for tid, c in app.by_id.items() if not c.deleted]

    def _state(self, name: str, tid: str) -> dict[str, Any]:
        """The ticket as the helpdesk shows it: group, priority, status, escalated."""
        app: Any = self.apps[name]
        if name == "zendesk":
            t = json.loads(self._call(name, "GET", f"/api/v2/tickets/{tid}.json").body)["ticket"]
            groups = {v: k for k, v in app.group_ids.items()}
            return {"group": groups.get(t["group_id"]), "priority": t["priority"], "closed": t["status"] in ("solved", "closed"),
                    "escalated": any(x in t["tags"] for x in ESCALATION_TAGS), "tags": t["tags"]}
        if name == "freshdesk":
            t = json.loads(self._call(name, "GET", f"/api/v2/tickets/{tid}").body)
            groups = {v: k for k, v in app.group_ids.items()}
            prio = {1: "low", 2: "normal", 3: "high", 4: "urgent"}[t["priority"]]
            return {"group": groups.get(t["group_id"]), "priority": prio, "closed": t["status"] in (4, 5),
                    "escalated": any(x in t["tags"] for x in ESCALATION_TAGS), "tags": t["tags"]}
        rec = app.case_record(tid)  # the same record a SOQL query returns
        queues = {v: k for k, v in app.queues.items()}
        prio = {"Low": "low", "Medium": "normal", "High": "high"}.get(rec["Priority"], "normal")
        return {"group": queues.get(rec["OwnerId"]), "priority": prio, "closed": rec["IsClosed"],
                "escalated": rec["IsEscalated"], "tags": []}

    # -- acting through the API ---------------------------------------------------------------
    def _call(self, name: str, method: str, path: str, body: Any = None) -> SimResponse:
        app = self.apps[name]
        headers = {"host": "127.0.0.1", "content-type": "application/json"}
        if name == "zendesk":
            headers["authorization"] = f"Bearer {app.token}" if app.token else ""  # type: ignore[attr-defined]
        elif name == "freshdesk":
            key = app.api_key or "x"  # type: ignore[attr-defined]
            headers["authorization"] = "Basic " + base64.b64encode(f"{key}:X".encode()).decode()
        else:
            if self._sf_token is None:
                form = f"grant_type=client_credentials&client_id={app.client_id}&client_secret={app.client_secret}"  # type: ignore[attr-defined]
                r = app.handle(SimRequest("POST", "/services/oauth2/token", {}, {}, form.encode()))
                self._sf_token = json.loads(r.body)["access_token"]
            headers["authorization"] = f"Bearer {self._sf_token}"
        data = json.dumps(body).encode() if body is not None else b""
        resp = app.handle(SimRequest(method, path, {}, headers, data))
        if resp.status == 401 and name == "salesforce" and self._sf_token is not None:
            # Salesforce sessions expire (2 hours of simulated time): sign in again, as an agent's browser does.
            self._sf_token = None
            return self._call(name, method, path, body)
        if resp.status >= 300:
            raise RuntimeError(f"simulated team: {method} {path} answered {resp.status}: {resp.body[:200]!r}")
        return resp

    def _write(self, name: str, tid: str, *, group: str | None = None, priority: str | None = None,
               escalated: bool | None = None, solve: bool = False, tags: list[str] | None = None) -> None:
        app: Any = self.apps[name]
        if name == "zendesk":
            t: dict[str, Any] = {}
            if group:
                t["group_id"] = app.group_ids[group]
            if priority:
                t["priority"] = priority
            if solve:
                t["status"] = "solved"
            if escalated is False:
                t["remove_tags"] = list(ESCALATION_TAGS)
            elif escalated:
                t["additional_tags"] = ["escalated"]
            self._call(name, "PUT", f"/api/v2/tickets/{tid}.json", {"ticket": t})
        elif name == "freshdesk":
            f: dict[str, Any] = {}
            if group:
                f["group_id"] = app.group_ids[group]
            if priority:
                f["priority"] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}[priority]
            if solve:
                f["status"] = 4
            if escalated is not None:
                kept = [x for x in (tags or []) if x not in ESCALATION_TAGS]
                f["tags"] = kept + (["escalated"] if escalated else [])
            self._call(name, "PUT", f"/api/v2/tickets/{tid}", f)
        else:
            s: dict[str, Any] = {}
            if group:
                s["OwnerId"] = app.queues[group]
            if priority:
                s["Priority"] = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "High"}[priority]
            if solve:
                s["Status"] = "Closed"
            if escalated is not None:
                s["IsEscalated"] = escalated
            self._call(name, "PATCH", f"/services/data/v60.0/sobjects/Case/{tid}", s)

    def _when(self, key: tuple[str, str, str], now: datetime, span: tuple[float, float], unit: str = "minutes") -> bool:
        """True once the action's own delay (drawn the first time it is considered) has passed."""
        if key not in self._due:
            self._due[key] = now + timedelta(**{unit: self.rng.uniform(*span)})
        return now >= self._due[key]

    def _rate(self, name: str, tid: str, c: Conversation, now: datetime) -> None:
        """The customer answers the satisfaction survey a resolution sends (some do not), as
        their last message sounded: the helpdesks serve it as their APIs do (Zendesk on the
        ticket, Freshdesk at /tickets/{id}/satisfaction_ratings; Salesforce has no standard one)."""
        if name == "salesforce" or self.rng.random() > self.rate_share:
            return
        last = next((p.body for p in reversed(c.posts) if p.author == "customer"), "")
        good = self.rng.random() < (0.1 if c.kind in UNHAPPY else 0.9 if c.kind in HAPPY else 0.5)
        score = "good" if good else "bad"
        app: Any = self.apps[name]
        ov = app.overlay[int(tid)]
        self.tally.rated[(name, tid)] = (score, last)
        if name == "zendesk":
            ov["satisfaction_rating"] = {"id": 360000000 + int(tid), "score": score, "comment": None}
        else:
            stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            ov["ratings"] = [{"id": 6000000000 + int(tid), "survey_id": 6000003420, "user_id": app._uid(c.customer.email),
                              "agent_id": None, "feedback": None, "group_id": None, "ticket_id": int(tid),
                              "created_at": stamp, "updated_at": stamp,
                              "ratings": {"default_question": 103 if good else -103}}]

    # -- one step -----------------------------------------------------------------------------
    def act(self, now: datetime) -> None:
        """Everything the team gets to by ``now``."""
        for name in self.apps:
            for tid, c in self._tickets(name):
                key = (name, tid)
                owner = self.habits.owner(c)
                if key in self.tally.resolved:
                    continue
                st = self._state(name, tid)
                if st["escalated"] and self.habits.turns_down(c) and key not in self.tally.turned_down \
                        and key not in self.tally.escalated and self._when((name, tid, "down"), now, self.react):
                    self._write(name, tid, priority=c.priority, escalated=False, tags=st["tags"])
                    self.tally.turned_down.add(key)
                if not st["escalated"] and self.habits.escalates(c) and key not in self.tally.escalated \
                        and key not in self.tally.turned_down and self._when((name, tid, "up"), now, self.react):
                    self._write(name, tid, priority="high", escalated=True, tags=st["tags"])
                    self.tally.escalated.add(key)
                if st["group"] != owner and self._when((name, tid, "route"), now, self.react):
                    self.tally.rerouted.add(key)
                    self._write(name, tid, group=owner)
                quiet = c.next_reply_at is None and c.followups_left == 0
                if quiet and self._when((name, tid, "resolve"), now, self.resolve_after, "hours"):
                    self._rate(name, tid, c, now)
                    self._write(name, tid, group=owner, solve=not st["closed"])
                    self.tally.resolved.add(key)

