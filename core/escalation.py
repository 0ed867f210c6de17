"""Placeholder until the owning work lands: the 'escalation' config section with no keys yet."""

DEFAULTS: dict = {}


def parse(section):
    section.check_unknown(())
    return None
