"""A seeded, realistic stream of support conversations, independent of any helpdesk's format.

The world holds organizations and customers shared by all helpdesks, so the same customer can
write to two helpdesks about one problem (the repeat-contact case deskwatch must catch).
``World.step(now)`` advances time: new conversations start and customers reply, each as a
plain ``Conversation`` that the helpdesk adapters render in their own wire formats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# (name, annual value, tier, renewal in days, health)
ORG_TEMPLATES = [
    ("Acme Logistics", 240_000, "enterprise", 25, 0.35),
    ("Globex Retail", 180_000, "enterprise", 200, 0.8),
    ("Initech", 60_000, "business", 40, 0.6),
    ("Umbrella Health", 320_000, "enterprise", 90, 0.5),
    ("Hooli Media", 45_000, "business", 300, 0.9),
    ("Stark Freight", 12_000, "team", 150, 0.7),
    ("Wayne Clinics", 95_000, "business", 18, 0.4),
    ("Soylent Foods", 8_000, "team", 60, 0.85),
    ("Vandelay Imports", 0, "free", None, None),
    ("Pied Piper", 0, "free", None, None),
    ("Cyberdyne Labs", 150_000, "enterprise", 45, 0.55),
    ("Tyrell Systems", 30_000, "business", 120, 0.75),
]

FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya",
         "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe"]
LAST = ["Silva", "Okafor", "Martin", "Patel", "Kaya", "Haddad", "Lee", "Tanaka", "Garcia", "Berg", "Novak", "Walsh"]

# kind -> (weight, subject templates, opening messages, follow-ups, extra facts)
SCENARIOS: dict[str, dict] = {
    "howto": {
        "weight": 34,
        "subjects": ["How do I export a report to CSV?", "Question about user roles", "Where can I change my billing e-mail?",
                     "Can I rename a workspace?", "How to set up SSO for new users"],
        "opening": ["Hi team, quick question: {q} Thanks a lot!", "Hello, could you tell me {q} Not urgent at all.",
                    "Hi! {q} Appreciate the help, have a great day."],
        "followups": ["Thanks, that worked perfectly!", "Great, thank you for the quick answer."],
    },
    "angry_trivial": {
        "weight": 8,
        "subjects": ["Button colour is WRONG", "Typo in the invoice footer", "Why did the logo change?!"],
        "opening": ["This is RIDICULOUS!!! The {thing} looks completely wrong and nobody cares!!",
                    "Seriously?! Who approved this {thing}? Terrible, just terrible!!"],
        "followups": ["Still annoyed, but fine.", "Whatever. Just fix it."],
    },
    "outage": {
        "weight": 8,
        "subjects": ["Dashboard down - 500 errors", "Cannot log in - service unavailable", "API returning 503 for all requests"],
        "opening": ["Hello, I hope you are well. Since {time} our whole team cannot access the dashboard, "
                    "it shows 500 errors for all our users. Could you please take a look?",
                    "Hi, the API has been returning 503 errors for every request since {time}. "
                    "This affects all of our users and production is down. Thank you for checking."],
        "followups": ["Any update? It is still down for everyone here.", "Still seeing the errors, our customers are affected."],
        "affected": (50, 900),
    },
    "gdpr": {
        "weight": 5,
        "subjects": ["Data deletion request", "GDPR subject access request", "Please delete my personal data"],
        "opening": ["Under the GDPR I request the deletion of all personal data you hold about me (right to be forgotten).",
                    "This is a data subject access request under GDPR article 15. Please send me a copy of my personal data."],
        "followups": ["I have not received a confirmation yet. The legal deadline is 30 days."],
    },
    "security": {
        "weight": 4,
        "subjects": ["Possible security vulnerability in password reset", "Suspicious logins on our account",
                     "Data breach? We see unknown API keys"],
        "opening": ["I think I found a security vulnerability: the password reset link can be reused. Other accounts may be exposed.",
                    "We see suspicious logins from unknown IPs and API keys we did not create. Is this a breach?"],
        "followups": ["Please treat this as urgent, we may need to notify our customers."],
    },
    "refund_churn": {
        "weight": 6,
        "subjects": ["Refund for double charge", "Charged twice - want my money back", "Cancel subscription and refund"],
        "opening": ["We were charged twice this month. I want a full refund immediately.",
                    "This is the third time I am writing about the double charge. Refund us or we cancel our contract."],
        "followups": ["Still waiting for the refund. Unacceptable. We are evaluating other vendors.",
                      "If this is not fixed this week we will cancel our subscription."],
    },
    "renewal_risk": {
        "weight": 6,
        "subjects": ["Reports are slow again", "Sync keeps failing", "Integration broken after update"],
        "opening": ["Our reports take minutes to load again. We raised this last month. Frankly we are disappointed.",
                    "The Salesforce integration has been failing since your update. Our team is blocked and frustrated."],
        "followups": ["I tried the suggested fix, it didn't work. Still broken.",
                      "Same problem again today. We are seriously considering whether to renew."],
    },
    "loop": {
        "weight": 7,
        "subjects": ["Import keeps failing", "Emails not delivered", "Webhook not firing"],
        "opening": ["The CSV import fails with 'invalid row 12'. Can you help?",
                    "Our notification e-mails are not being delivered to customers."],
        "followups": ["I tried that, it didn't work. Same error.", "Still not working after clearing the cache.",
                      "We did exactly what you said and it still fails. This is the third time now."],
    },
}

QUESTIONS = ["how to export a report to CSV?", "how user roles work?", "where I can change the billing e-mail?"]
THINGS = ["button colour", "invoice footer", "logo", "font"]
AGENT_REPLIES = [
    "Thanks for reaching out. Could you try clearing your browser cache and signing in again?",
    "Thank you, we are looking into this and will update you shortly.",
    "Could you send us a screenshot and the exact time this happened?",
]


@dataclass
class Org:
    key: str
    name: str
    annual_value: float
    tier: str
    renewal_date: date | None
    health: float | None


@dataclass
class Customer:
    key: str
    name: str
    email: str
    org: Org


@dataclass
class Post:
    author: str  # customer | agent
    at: datetime
    body: str
    public: bool = True


@dataclass
class Conversation:
    """One support conversation as it lives in one helpdesk."""

    key: str  # world-unique
    helpdesk: str
    kind: str
    customer: Customer
    subject: str
    channel: str  # deskwatch channel vocabulary; adapters encode it natively
    priority: str  # low | normal | high | urgent
    status: str  # new | open | pending | solved | closed | deleted
    created_at: datetime
    updated_at: datetime
    posts: list[Post] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    affected_users: int | None = None
    deleted: bool = False
    spam: bool = False
    followups_left: int = 0
    next_reply_at: datetime | None = None
    next_author: str = "customer"


class World:
    """The seeded state of all simulated customers and conversations."""

    def __init__(self, seed: int, helpdesks: tuple[str, ...], start: datetime, rate_per_minute: float = 6.0):
        self.rng = random.Random(seed)
        self.helpdesks = helpdesks
        self.rate = rate_per_minute
        self.now = start
        self.orgs = [
            Org(f"org{i}", n, v, t, (start.date() + timedelta(days=r)) if r is not None else None, h)
            for i, (n, v, t, r, h) in enumerate(ORG_TEMPLATES)
        ]
        self.customers: list[Customer] = []
        for i in range(60):
            org = self.orgs[i % len(self.orgs)]
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            domain = org.name.lower().split()[0] + ".example.com"
            self.customers.append(Customer(f"c{i}", f"{first} {last}", f"{first}.{last}{i}@{domain}".lower(), org))
        self.conversations: list[Conversation] = []
        self._counter = 0
        self._carry = 0.0
        self._outage_at: datetime | None = None

    # -- generation --------------------------------------------------------------------------
    def backlog(self, count: int, span: timedelta) -> list[Conversation]:
        """Conversations that started before the simulation, spread over ``span``."""
        made = []
        for _ in range(count):
            started = self.now - timedelta(seconds=self.rng.uniform(0, span.total_seconds()))
            made.append(self._new_conversation(started))
        self._due_events(self.now)
        return made

    def step(self, now: datetime) -> list[Conversation]:
        """Advance to ``now``: start new conversations at the configured rate and let waiting
        customers reply. Returns the conversations that changed."""
        if now <= self.now:
            return []
        changed: dict[str, Conversation] = {}
        elapsed_min = (now - self.now).total_seconds() / 60
        self._carry += elapsed_min * self.rate
        while self._carry >= 1:
            self._carry -= 1
            at = self.now + timedelta(seconds=self.rng.uniform(0, (now - self.now).total_seconds()))
            c = self._new_conversation(at)
            changed[c.key] = c
        for c in self._due_events(now):
            # Stamp the change when it is processed, as a helpdesk would: a poller that read up to
            # self.now must still see it as newer than its bookmark.
            c.updated_at = max(c.updated_at, now)
            changed[c.key] = c
        self.now = now
        return list(changed.values())

    def _due_events(self, now: datetime) -> list[Conversation]:
        touched = []
        for c in self.conversations:
            while c.next_reply_at and c.next_reply_at <= now and not c.deleted:
                self._next_post(c, c.next_reply_at)
                touched.append(c)
        return touched

    def _pick_kind(self) -> str:
        kinds = list(SCENARIOS)
        return self.rng.choices(kinds, weights=[SCENARIOS[k]["weight"] for k in kinds])[0]

    def _new_conversation(self, at: datetime, kind: str | None = None, customer: Customer | None = None,
                          helpdesk: str | None = None) -> Conversation:
        kind = kind or self._pick_kind()
        spec = SCENARIOS[kind]
        customer = customer or self._customer_for(kind)
        self._counter += 1
        channel = self.rng.choice(["email", "email", "web", "chat", "phone"] if kind != "security" else ["email", "web"])
        priority = {"outage": "high", "security": "normal", "howto": "low"}.get(kind, "normal")
        body = self.rng.choice(spec["opening"]).format(
            q=self.rng.choice(QUESTIONS), thing=self.rng.choice(THINGS), time=(at - timedelta(minutes=20)).strftime("%H:%M UTC")
        )
        c = Conversation(
            key=f"w{self._counter}",
            helpdesk=helpdesk or self.helpdesks[self._counter % len(self.helpdesks)],
            kind=kind,
            customer=customer,
            subject=self.rng.choice(spec["subjects"]),
            channel=channel,
            priority=priority,
            status="new",
            created_at=at,
            updated_at=at,
            posts=[Post("customer", at, f"{body}\n\nBest regards,\n{customer.name}")],
            tags=[kind.replace("_", "-")] if self.rng.random() < 0.3 else [],
            affected_users=self.rng.randint(*spec["affected"]) if "affected" in spec else None,
            followups_left=self.rng.randint(0, len(spec["followups"])),
        )
        if c.followups_left or self.rng.random() < 0.8:
            # Most tickets get an agent answer; some customers come back (events happen in step()).
            c.next_reply_at, c.next_author = at + timedelta(minutes=self.rng.uniform(2, 45)), "agent"
        self.conversations.append(c)
        # A customer with a refund or renewal problem often writes to a second helpdesk too.
        if kind in ("refund_churn", "renewal_risk") and len(self.helpdesks) > 1 and self.rng.random() < 0.5:
            other = self.rng.choice([h for h in self.helpdesks if h != c.helpdesk])
            twin_at = at + timedelta(minutes=self.rng.uniform(5, 90))
            twin = Conversation(
                key=f"{c.key}b", helpdesk=other, kind=kind, customer=customer, subject=f"Re: {c.subject}",
                channel=self.rng.choice(["chat", "phone", "web"]), priority="normal", status="new",
                created_at=twin_at, updated_at=twin_at,
                posts=[Post("customer", twin_at, f"I already contacted you about this by e-mail. {c.posts[0].body.splitlines()[0]}")],
            )
            self.conversations.append(twin)
        if kind == "outage":
            self._outage_at = at
        return c

    def _customer_for(self, kind: str) -> Customer:
        if kind == "gdpr" and self.rng.random() < 0.6:
            free = [c for c in self.customers if c.org.tier == "free"]
            return self.rng.choice(free)
        if kind in ("renewal_risk", "refund_churn"):
            big = [c for c in self.customers if c.org.tier in ("enterprise", "business")]
            return self.rng.choice(big)
        return self.rng.choice(self.customers)

    def _next_post(self, c: Conversation, at: datetime) -> None:
        spec = SCENARIOS[c.kind]
        c.next_reply_at = None
        if c.next_author == "agent":
            c.posts.append(Post("agent", at, self.rng.choice(AGENT_REPLIES)))
            # With nothing more to say from the customer, some tickets are simply solved.
            done = not c.followups_left and c.kind == "howto" and self.rng.random() < 0.6
            c.status, c.updated_at = ("solved" if done else "pending"), at
            if c.followups_left:
                c.next_reply_at, c.next_author = at + timedelta(minutes=self.rng.uniform(1, 20)), "customer"
            return
        idx = len(spec["followups"]) - c.followups_left
        c.posts.append(Post("customer", at, spec["followups"][max(0, min(idx, len(spec["followups"]) - 1))]))
        c.followups_left -= 1
        c.status, c.updated_at = "open", at
        if c.followups_left:
            c.next_reply_at, c.next_author = at + timedelta(minutes=self.rng.uniform(2, 30)), "agent"

    def for_helpdesk(self, helpdesk: str) -> list[Conversation]:
        """The conversations this helpdesk holds so far (a twin contact appears when it happens)."""
        return [c for c in self.conversations if c.helpdesk == helpdesk and c.created_at <= self.now]
