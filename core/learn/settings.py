"""The ``[learn]`` config section.

    [learn]
    holdout = 0.2          # the most recent share of the data kept out to test on
    min_per_label = 5      # fewer examples of a label than this and training is refused
    schedule = ""          # "daily" / "weekly" / "" (off): the daemon re-learns from the store
    use_models = true      # the engine uses active models; false: rules only
"""

from __future__ import annotations

from dataclasses import dataclass

from deskwatch.core.model.settings import Section

DEFAULTS = {"holdout": 0.2, "min_per_label": 5, "schedule": "", "use_models": True}
SCHEDULES = {"": None, "off": None, "hourly": 3600.0, "daily": 86400.0, "weekly": 7 * 86400.0}


@dataclass(frozen=True)
class LearnConfig:
    holdout: float = 0.2
    min_per_label: int = 5
    schedule: str = ""
    use_models: bool = True

    @property
    def interval(self) -> float | None:
        """Seconds between scheduled re-learning runs, None when off."""
        return SCHEDULES[self.schedule]


def parse(section: Section) -> LearnConfig:
    d = DEFAULTS
    schedule = section.string("schedule", d["schedule"]).strip().lower()
    if schedule not in SCHEDULES:
        raise section.error("schedule", f'unknown schedule "{schedule}"; use one of: daily, weekly, hourly, or "" for off')
    cfg = LearnConfig(
        holdout=section.number("holdout", d["holdout"], min=0.05, max=0.5),
        min_per_label=section.integer("min_per_label", d["min_per_label"], min=1),
        schedule=schedule,
        use_models=section.boolean("use_models", d["use_models"]),
    )
    section.check_unknown(d)
    return cfg
