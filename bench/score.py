"""Benchmark: engine throughput against a bare VADER pass over the same text.

    python bench/score.py [--tickets 10000] [--seed 7]
    python bench/score.py --distinct [--tickets 10000]
    python bench/score.py --e2e [--tickets 20000] [--repeat 3]

Generates tickets of 3-6 messages (seeded, so every run scores the same text), scores them
with ``decide_many`` on one core, then runs ``polarity_scores`` on every message body of the
same tickets. Prints tickets/s for both and their ratio. Targets: >= 5,000 tickets/s for the
engine, engine time within 1.5x of the bare VADER pass. Also prints the engine's own VADER
(``deskwatch.core.engine.vader.FastVader``, same compound) over the same messages, and the engine with
a sentiment backend that costs nothing. ``bench/phases.py`` breaks the engine's time down.

``--distinct`` makes every message distinct (the generated sentences repeat, and the engine reads
a text once per batch), for the engine's speed on text it has not seen before.

``--e2e`` measures ``deskwatch score`` as a user runs it instead: an export of ``--tickets``
tickets from 20 organizations over 60 days (bench/history.py's, so every organization has
hundreds of related tickets) is written as JSON Lines, and ``deskwatch score --now ... FILE`` runs
as a new process ``--repeat`` times, output to /dev/null. Prints the wall time (process start,
imports, JSON reading and writing included) and the process's CPU time, median and best, and a
bare vaderSentiment pass over the same messages. Target: >= 2,000 tickets/s on 20,000 tickets,
within 2.0x of the bare VADER pass.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from deskwatch.core import config
from deskwatch.core.config import Config
from deskwatch.core.engine import decide_many, gc_paused
from deskwatch.core.model import Message, Organization, Person, Ticket
from deskwatch.core.engine.nlp import register_analyzer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


class _NullAnalyzer:
    name = "bench-null"

    def score(self, text: str) -> float:
        return 0.0

    def score_many(self, texts):
        return [0.0] * len(texts)

OPENERS = [
    "Hi team,", "Hello,", "Hi there,", "Good morning,", "", "Dear support,",
]
PROBLEMS = [
    "the invoice export to CSV produces an empty file", "our dashboard takes 40 seconds to load",
    "SSO login sends users back to the login page", "the mobile app crashes when I open the calendar",
    "we were charged twice for October", "I cannot find where to change the billing address",
    "the API returns 502 Bad Gateway for every request", "none of our users can log in since 9:00",
    "the webhook stopped firing after the update", "how do I add a new teammate to our workspace",
    "the PDF report is missing the VAT number", "search results are empty for older projects",
    "we need a refund for the unused seats", "your latest release broke the Slack integration",
    "the password reset email never arrives", "I think we found a vulnerability in the share links",
]
FEELINGS = [
    "Could you please take a look?", "Thanks a lot for your help!", "This is blocking our month-end close.",
    "This is unacceptable, we pay for premium support.", "Still waiting for an answer.",
    "This is the third time I am asking!!", "No rush, whenever you have time.", "We love the product otherwise.",
    "Please escalate this to someone who can fix it.", "Our CEO is asking me about it every hour.",
    "If this is not fixed we will cancel our subscription.", "It worked fine last week.",
]
FOLLOWUPS = [
    "I tried that, it didn't work.", "Still broken after clearing the cache.", "Any update on this?",
    "Thanks, that fixed it!", "Same error as before.", "We restarted everything, no change.",
    "Great, works now. Thank you!", "Hello? Is anyone looking at this?", "Attached the logs you asked for.",
]
AGENT = [
    "Thanks for reaching out. Could you send us a screenshot of the error?",
    "Please clear your browser cache and cookies, then try again.",
    "I have passed this on to our engineering team and will update you shortly.",
    "We deployed a fix a few minutes ago, could you check again?",
    "Sorry for the trouble. Which browser and version are you using?",
    "You can change this under Settings > Billing > Address.",
]
SIGNATURES = ["\n\nBest regards,\n{name}", "\n\nThanks,\n{name}", "\n-- \n{name}\n{org}", "\n\nSent from my iPhone", ""]
NAMES = ["Anna", "Tom Berg", "Priya Nair", "Lena", "Mark", "Julia Alvarez", "Ravi", "Dana Cole"]
TIERS = ["free", "starter", "pro", "business", "enterprise"]


def generate(n: int, seed: int) -> list[Ticket]:
    rnd = random.Random(seed)
    tickets = []
    for i in range(n):
        name = rnd.choice(NAMES)
        org_name = f"Org {rnd.randrange(n // 4 + 1)}"
        created = NOW - timedelta(minutes=rnd.randrange(10, 60 * 24 * 10))
        msgs = []
        t = created
        previous = ""
        for k in range(rnd.randint(3, 6)):
            author = "customer" if k % 2 == 0 else "agent"
            if author == "agent":
                body = rnd.choice(AGENT) + f"\n\nKind regards,\nSupport {rnd.randrange(40)}"
            else:
                text = (
                    f"{rnd.choice(OPENERS)}\n{rnd.choice(PROBLEMS).capitalize()}. {rnd.choice(FEELINGS)}"
                    if k == 0
                    else f"{rnd.choice(FOLLOWUPS)} {rnd.choice(FEELINGS)}"
                )
                body = text + rnd.choice(SIGNATURES).format(name=name, org=org_name)
            if previous and rnd.random() < 0.5:
                quoted = "\n".join("> " + line for line in previous.splitlines())
                body += f"\n\nOn {t:%a, %d %b %Y at %H:%M}, someone <x@example.com> wrote:\n{quoted}"
            msgs.append(Message(author=author, created_at=t, body=body))
            previous = body
            t += timedelta(minutes=rnd.randrange(5, 600))
        tickets.append(
            Ticket(
                id=f"bench:{i}",
                source=rnd.choice(["zendesk", "freshdesk", "salesforce"]),
                channel=rnd.choice(["email", "chat", "web"]),
                subject=rnd.choice(PROBLEMS)[:40],
                status=rnd.choice(["new", "open", "open", "pending"]),
                priority=None,
                created_at=created,
                updated_at=msgs[-1].created_at,
                messages=tuple(msgs),
                requester=Person(id=str(i), email=f"{name.split()[0].lower()}{rnd.randrange(n)}@{org_name.replace(' ', '').lower()}.example"),
                organization=Organization(
                    name=org_name,
                    tier=rnd.choice(TIERS),
                    annual_value=float(rnd.choice([0, 1200, 24000, 90000, 300000])),
                    renewal_date=date(2026, 12, 1) + timedelta(days=rnd.randrange(365)),
                    health=round(rnd.random(), 2),
                ),
                affected_users=rnd.choice([None, None, 1, 5, 40, 400]),
            )
        )
    return tickets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=None, help="10,000 (engine) or 20,000 (--e2e)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each pass; the best is reported")
    ap.add_argument("--e2e", action="store_true", help="time `deskwatch score` end to end on a generated export")
    ap.add_argument("--distinct", action="store_true",
                    help="make every message distinct (a made-up word first), so no text repeats")
    args = ap.parse_args()
    repeat = max(1, args.repeat)
    if args.e2e:
        end_to_end(args.tickets or 20_000, args.seed, repeat)
        return
    args.tickets = args.tickets or 10_000

    tickets = generate(args.tickets, args.seed)
    if args.distinct:
        tickets = distinct(tickets)
    messages = sum(len(t.messages) for t in tickets)
    cfg = config.load(None)
    decide_many(tickets[:50], cfg, NOW)  # warm-up: lexicon load, regex compile

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from deskwatch.core.engine.vader import FastVader

    bodies = [m.body for t in tickets for m in t.messages]
    sia = SentimentIntensityAnalyzer()
    vader_s = _timed(lambda: [sia.polarity_scores(b) for b in bodies], repeat)
    fast = FastVader()
    fast_s = _timed(lambda: [fast.compound(b) for b in bodies], repeat)

    engine_s, decisions = _timed(lambda: decide_many(tickets, cfg, NOW), repeat, keep=True)

    # The same engine with a sentiment backend that costs nothing: what the rest of the
    # pipeline (text cleaning, triggers, history, SLA, routing, scoring) costs on its own.
    register_analyzer("bench-null", lambda _cfg: _NullAnalyzer())
    null_cfg = Config(cfg.file, {**cfg.sections, "nlp": replace(cfg.nlp, analyzer="bench-null")}, cfg.raw)
    rest_s = _timed(lambda: decide_many(tickets, null_cfg, NOW), repeat)

    recs: dict[str, int] = {}
    for d in decisions:
        recs[d.recommendation] = recs.get(d.recommendation, 0) + 1
    n = len(tickets)
    every = ", every message distinct" if args.distinct else ""
    print(f"tickets: {n} ({messages} messages, seed {args.seed}{every}); CPU time, best of {args.repeat} runs")
    print(f"engine:     {n / engine_s:8.0f} tickets/s  ({engine_s:.2f} s)   target >= 5,000")
    print(f"bare VADER: {n / vader_s:8.0f} tickets/s  ({vader_s:.2f} s, vaderSentiment polarity_scores of every message)")
    print(f"engine time / VADER time: {engine_s / vader_s:.2f}x   target <= 1.5x")
    print(f"FastVader pass (the engine's VADER, same compound): {n / fast_s:8.0f} tickets/s  ({fast_s:.2f} s)")
    print(f"engine without sentiment analysis: {n / rest_s:8.0f} tickets/s  ({rest_s:.2f} s)")
    print("recommendations: " + ", ".join(f"{k} {v}" for k, v in sorted(recs.items())))


def distinct(tickets: list[Ticket]) -> list[Ticket]:
    """The same tickets with every message body starting "Ref <made-up word>.": no two texts
    alike, so nothing the engine keeps by text is found again (the generated sentences repeat).
    The word has no digit and matches no pattern, so the decisions are those of the text after it."""

    def word(n: int) -> str:
        out = "zq"
        while True:
            out += "bcdfghjklmnpqrstvwxz"[n % 20]
            n //= 20
            if not n:
                return out

    return [replace(t, messages=tuple(replace(m, body=f"Ref {word(i * 8 + k)}. " + m.body) for k, m in enumerate(t.messages)))
            for i, t in enumerate(tickets)]


def end_to_end(n: int, seed: int, repeat: int) -> None:
    """``deskwatch score`` as a new process on an export of ``n`` tickets: wall and CPU time."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from history import generate_orgs

    from deskwatch.core.model import ticket_to_dict
    from deskwatch.core.model.timeutil import format_time

    tickets = generate_orgs(n, 20, 60, seed)
    bodies = [m.body for t in tickets for m in t.messages]
    exe = os.path.join(os.path.dirname(sys.executable), "deskwatch")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "deskwatch.core.cli"]
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for t in tickets:
                f.write(json.dumps(ticket_to_dict(t), ensure_ascii=False) + "\n")
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            with open(os.devnull, "w") as sink:
                done = subprocess.run([*cmd, "score", "--now", format_time(NOW), path], stdout=sink, check=False)
            walls.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
            if done.returncode != 0:
                raise SystemExit(f"deskwatch score exited {done.returncode}")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    vader_s = _timed(lambda: [sia.polarity_scores(b) for b in bodies], 1)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"deskwatch score end to end: {n} tickets ({len(bodies)} messages, 20 organizations over 60 days), "
          f"{repeat} runs, process start included")
    print(f"wall: {n / wall:7.0f} tickets/s median ({wall:.2f} s; best {n / min(walls):.0f}/s)   target >= 2,000")
    print(f"CPU:  {n / cpu:7.0f} tickets/s median ({cpu:.2f} s user+sys; best {n / min(cpus):.0f}/s)")
    print(f"bare VADER: {n / vader_s:7.0f} tickets/s ({vader_s:.2f} s CPU); end-to-end wall / VADER: {wall / vader_s:.2f}x, "
          f"CPU / VADER: {cpu / vader_s:.2f}x   target <= 2.0x")


def _timed(fn, repeat: int, keep: bool = False):
    """Best CPU time of ``repeat`` runs (CPU time, so waiting for a busy machine's cores does
    not count). The cyclic GC is paused for every pass, as decide_many pauses it for its own."""
    best, out = float("inf"), None
    for _ in range(repeat):
        with gc_paused():
            t0 = time.process_time()
            out = fn()
            best = min(best, time.process_time() - t0)
    return (best, out) if keep else best


if __name__ == "__main__":
    main()
