"""The `simulator` config section and the object that runs all three simulated helpdesks.

Documented limits (what `deskwatch simulate` enforces when ``rate_limits = true``): Zendesk
700 requests/minute (429 + Retry-After, plain-text body), Freshdesk 400/minute (429 +
Retry-After, JSON body), Salesforce 600/minute as a 403 REQUEST_LIMIT_EXCEEDED
("ConcurrentRequests") plus an optional daily quota ("TotalRequests").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Callable

from deskwatch.core.policy import routing
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.freshdesk import FreshdeskApp
from deskwatch.core.simulator.http import Faults, HelpdeskApp, Recorder, serve
from deskwatch.core.simulator.salesforce import SalesforceApp
from deskwatch.core.simulator.world import World
from deskwatch.core.simulator.zendesk import ZendeskApp
from deskwatch.core.model.timeutil import utcnow

HELPDESKS = ("zendesk", "freshdesk", "salesforce")
DOCUMENTED_LIMITS = {"zendesk": 700, "freshdesk": 400, "salesforce": 600}
CREDENTIALS = {
    "zendesk": {"email": "sim@example.com", "token": "sim-zendesk-token"},
    "freshdesk": {"api_key": "sim-freshdesk-key"},
    "salesforce": {"client_id": "sim-client-id", "client_secret": "sim-client-secret"},
}
FAULT_KEYS = ("error_rate", "burst_429_rate", "burst_length", "slow_rate", "slow_seconds", "malformed_rate", "drop_rate", "lost_rate")

DEFAULTS = {
    "seed": 7,
    "backlog": 60,
    "backlog_hours": 8.0,
    "rate_per_minute": 2.0,
    "rate_limits": True,
    "host": "127.0.0.1",
    # The helpdesks' groups and agents are the default routing teams and agents, so decisions
    # made on the embedded defaults can be written back to the simulator as they are.
    "groups": [t["name"] for t in routing.DEFAULTS["teams"]],
    "agents": [a["name"] for a in routing.DEFAULTS["agents"]],
    "zendesk": {"port": 0, "error_rate": 0.0, "burst_429_rate": 0.0, "drop_rate": 0.0},
    "freshdesk": {"port": 0, "error_rate": 0.0, "burst_429_rate": 0.0, "drop_rate": 0.0},
    "salesforce": {"port": 0, "error_rate": 0.0, "burst_429_rate": 0.0, "drop_rate": 0.0},
}


@dataclass(frozen=True)
class HelpdeskSim:
    enabled: bool
    port: int
    rate_per_minute: int
    faults: Faults


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int
    backlog: int
    backlog_hours: float
    rate_per_minute: float
    host: str
    groups: tuple[str, ...]
    agents: tuple[str, ...]
    helpdesks: dict[str, HelpdeskSim]


def parse(s: Section) -> SimulatorConfig:
    limits = s.boolean("rate_limits", DEFAULTS["rate_limits"])
    seed = s.integer("seed", DEFAULTS["seed"])
    helpdesks = {}
    for name in HELPDESKS:
        h = s.section(name)
        faults = Faults(
            error_rate=h.number("error_rate", 0.0, min=0, max=1),
            burst_429_rate=h.number("burst_429_rate", 0.0, min=0, max=1),
            burst_length=h.integer("burst_length", 3, min=1),
            slow_rate=h.number("slow_rate", 0.0, min=0, max=1),
            slow_seconds=h.number("slow_seconds", 0.5, min=0, max=30),
            malformed_rate=h.number("malformed_rate", 0.0, min=0, max=1),
            drop_rate=h.number("drop_rate", 0.0, min=0, max=1),
            lost_rate=h.number("lost_rate", 0.0, min=0, max=1),
            seed=seed + len(name),
        )
        helpdesks[name] = HelpdeskSim(
            enabled=h.boolean("enabled", True),
            port=h.integer("port", 0, min=0, max=65535),
            rate_per_minute=h.integer("rate_per_minute", DOCUMENTED_LIMITS[name] if limits else 0, min=0),
            faults=faults,
        )
        h.check_unknown(("enabled", "port", "rate_per_minute", *FAULT_KEYS))
    cfg = SimulatorConfig(
        seed=seed,
        backlog=s.integer("backlog", DEFAULTS["backlog"], min=0, max=1_000_000),
        backlog_hours=s.number("backlog_hours", DEFAULTS["backlog_hours"], min=0),
        rate_per_minute=s.number("rate_per_minute", DEFAULTS["rate_per_minute"], min=0),
        host=s.string("host", DEFAULTS["host"]),
        groups=s.strings("groups", DEFAULTS["groups"]),
        agents=s.strings("agents", DEFAULTS["agents"]),
        helpdesks=helpdesks,
    )
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        raise s.error("host", "the simulator only listens on the loopback interface; use 127.0.0.1")
    s.check_unknown(DEFAULTS)
    return cfg


class Simulator:
    """The three simulated helpdesks over one shared world, each on its own loopback port."""

    def __init__(self, cfg: SimulatorConfig, clock: Callable[[], datetime] = utcnow):
        self.cfg, self.clock = cfg, clock
        enabled = tuple(n for n in HELPDESKS if cfg.helpdesks[n].enabled)
        self.world = World(cfg.seed, enabled, clock(), cfg.rate_per_minute)
        self.world.backlog(cfg.backlog, timedelta(hours=cfg.backlog_hours))
        self.recorder = Recorder()
        groups, agents = list(cfg.groups), list(cfg.agents)
        self.apps: dict[str, HelpdeskApp] = {}
        for name in enabled:
            h = cfg.helpdesks[name]
            if name == "zendesk":
                app: HelpdeskApp = ZendeskApp(self.world, clock, h.faults, h.rate_per_minute, self.recorder, groups, agents,
                                              **CREDENTIALS["zendesk"])
            elif name == "freshdesk":
                app = FreshdeskApp(self.world, clock, h.faults, h.rate_per_minute, self.recorder, groups, agents,
                                   **CREDENTIALS["freshdesk"])
            else:
                app = SalesforceApp(self.world, clock, h.faults, h.rate_per_minute, self.recorder, groups, agents,
                                    **CREDENTIALS["salesforce"])
            self.apps[name] = app
        self.servers: dict[str, ThreadingHTTPServer] = {}

    def start(self) -> "Simulator":
        for name, app in self.apps.items():
            self.servers[name] = serve(app, self.cfg.host, self.cfg.helpdesks[name].port)
        return self

    def url(self, name: str) -> str:
        host, port = self.servers[name].server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.shutdown()
            srv.server_close()
        self.servers.clear()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sources_config(self, write_back: bool = True, poll_interval: float = 2.0) -> dict[str, dict]:
        """`[sources.*]` tables that point the real connectors at this simulator."""
        out: dict[str, dict] = {}
        for name in self.servers:
            out[name] = {"type": name, "base_url": self.url(name), "write_back": write_back,
                         "poll_interval": poll_interval, **CREDENTIALS[name]}
        return out
