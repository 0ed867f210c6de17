"""Placeholder until the owning work lands: the 'sla' config section with no keys yet."""

DEFAULTS: dict = {}


def parse(section):
    section.check_unknown(())
    return None
