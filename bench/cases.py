"""Decision quality on hand-labelled tickets: tier, team, management, paging and urgency.

    python bench/cases.py [--cases tests/data/escalation_cases.jsonl] [--misses] [--dataset]

Reads the labelled cases (tests/data/escalation_cases.jsonl, written for this purpose, not taken
from issues or tests), decides each ticket on its own (no other ticket in the batch, so no
cross-ticket incident) at 03:00 Berlin on a weekday, and prints per-field accuracy, the
confusion of ``page`` and ``management`` and, with ``--misses``, every miss with the engine's
first reasons. ``tests/test_escalation_cases.py`` asserts floors on the same figures.

``--dataset`` also samples English tickets from ../shared/datasets/support-tickets (CC BY-NC 4.0,
read in place, never copied into the repository) and prints how their queue maps to the team
(Billing and Payments -> Billing) and how many page, by the set's priority label: a synthetic
helpdesk ticket is about one customer's problem, so paging should be rare and never for `low`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deskwatch.core import config
from deskwatch.core.engine import DecisionContext, decide
from deskwatch.core.model import Decision, SlaStatus, SlaTarget, ticket_from_dict

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "escalation_cases.jsonl"
DATASET = ROOT.parent / "shared" / "datasets" / "support-tickets" / "tickets-4-20k.csv"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 03:00 Berlin: paging matters most
FIELDS = ("tier", "team", "management", "page", "recommendation")

# Account profiles the cases name in "org"; ids are per case so cases never link to each other.
ORGS = {
    "free": {"name": "Solo", "tier": "free"},
    "smb": {"name": "Smallco", "tier": "business", "annual_value": 12000, "renewal_date": "2027-08-01", "health": 0.8},
    "ent": {"name": "Bigcorp", "tier": "enterprise", "annual_value": 250000, "renewal_date": "2027-09-30",
            "health": 0.85},
    "renew": {"name": "Keyacct", "tier": "enterprise", "annual_value": 320000, "renewal_date": "2026-12-20",
              "health": 0.4},
}


def sla_status(state: str | None, now: datetime = NOW) -> SlaStatus | None:
    """The SLA the case names: None, "breached" (160 % used) or "warning" (95 % used)."""
    if state is None:
        return None
    if state == "breached":
        return SlaStatus("enterprise", (SlaTarget("first_response", now - timedelta(hours=2), 160.0, "breached"),))
    return SlaStatus("enterprise", (SlaTarget("first_response", now + timedelta(minutes=10), 95.0, "warning"),))


def ticket(case: dict, now: datetime = NOW):
    """The case as a ticket: messages a few minutes apart, starting ``hours_ago`` before ``now``."""
    created = now - timedelta(hours=case.get("hours_ago", 1.0))
    step = timedelta(hours=case.get("hours_ago", 1.0)) / (len(case["messages"]) + 1)
    msgs = [{"author": m["author"], "created_at": (created + step * i).isoformat(), "body": m["body"],
             "author_id": "agent-1" if m["author"] == "agent" else None}
            for i, m in enumerate(case["messages"])]
    org = dict(ORGS[case.get("org", "smb")], id=f"org-{case['id']}")
    return ticket_from_dict({"id": case["id"], "subject": case.get("subject", ""), "created_at": created.isoformat(),
                             "organization": org, "requester": {"email": f"{case['id'].replace(':', '-')}@example.com"},
                             "messages": msgs})


def load(path: Path = CASES) -> list[dict]:
    """The labelled cases, one JSON object per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def got(d: Decision, name: str):
    """The decision's value for a labelled field, in the label's terms."""
    if name == "management":
        return d.management is not None
    return getattr(d, name)


def matches(name: str, want, value) -> bool:
    return value in want if isinstance(want, list) else value == want


@dataclass
class Result:
    total: dict[str, int] = field(default_factory=dict)
    right: dict[str, int] = field(default_factory=dict)
    misses: list[tuple[dict, str, object, object, Decision]] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    def accuracy(self, name: str) -> float:
        return self.right.get(name, 0) / self.total[name] if self.total.get(name) else 1.0


def evaluate(cases: list[dict], cfg=None, now: datetime = NOW) -> Result:
    """Decide every case alone and compare each labelled field."""
    cfg = cfg or config.load(None)
    res = Result(confusion={"page": dict(tp=0, fp=0, fn=0, tn=0), "management": dict(tp=0, fp=0, fn=0, tn=0)})
    for case in cases:
        d = decide(ticket(case, now), cfg, now, DecisionContext(sla=sla_status(case.get("sla"), now)))
        for name in FIELDS:
            if name not in case["expect"]:
                continue
            want, value = case["expect"][name], got(d, name)
            res.total[name] = res.total.get(name, 0) + 1
            if matches(name, want, value):
                res.right[name] = res.right.get(name, 0) + 1
            else:
                res.misses.append((case, name, want, value, d))
            if name in res.confusion:
                key = ("t" if want == value else "f") + ("p" if value else "n")
                res.confusion[name][key] += 1
    return res


def report(res: Result, misses: bool) -> None:
    n = max(res.total.values())
    print(f"{n} cases")
    for name in FIELDS:
        print(f"  {name:<15} {res.accuracy(name):6.1%}  ({res.right.get(name, 0)}/{res.total.get(name, 0)})")
    for name, c in res.confusion.items():
        print(f"  {name:<15} yes: {c['tp']} right, {c['fp']} wrongly   no: {c['tn']} right, {c['fn']} missed")
    if misses:
        print("misses:")
        for case, name, want, value, d in res.misses:
            print(f"  {case['id']:<24} {name:<14} want {want!s:<20} got {value!s:<12} | {' | '.join(d.reasons[:2])[:150]}")


def dataset(n: int, seed: int) -> None:
    """Queue-to-team agreement and paging by priority on a seeded sample of the public set."""
    if not DATASET.exists():
        print(f"dataset: {DATASET} not found, skipped")
        return
    with DATASET.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["language"] == "en"]
    rows = random.Random(seed).sample(rows, min(n, len(rows)))
    cfg = config.load(None)
    billing = [0, 0]
    pages: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        case = {"id": f"dataset:{i}", "subject": r["subject"], "org": "smb",
                "messages": [{"author": "customer", "body": r["body"]}]}
        d = decide(ticket(case), cfg, NOW, DecisionContext())
        p = pages.setdefault(r["priority"], [0, 0])
        p[0] += d.page
        p[1] += 1
        if r["queue"] == "Billing and Payments":
            billing[0] += d.team == "Billing"
            billing[1] += 1
    print(f"dataset sample: {len(rows)} English tickets (seed {seed})")
    print(f"  Billing and Payments -> team Billing: {billing[0]}/{billing[1]}")
    for prio in ("high", "medium", "low"):
        if prio in pages:
            print(f"  paged, priority {prio:<6}: {pages[prio][0]}/{pages[prio][1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--misses", action="store_true", help="list every miss")
    ap.add_argument("--dataset", action="store_true", help="also sample the public support-tickets set")
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    report(evaluate(load(args.cases)), args.misses)
    if args.dataset:
        dataset(args.sample, args.seed)


if __name__ == "__main__":
    main()
