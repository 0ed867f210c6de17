"""What to do about an update the helpdesk refused: the advice `deskwatch status` and the
console show next to a failed outbox item."""

from __future__ import annotations

import re

_STATUS = re.compile(r"-> (\d{3})\b")


def failure_fix(error: str) -> str:
    """What to do about a failed update, from its error: the connector's own "add it to …"
    advice when it gave one, else a hint for the kind of refusal."""
    text = error or ""
    own = re.search(r"((?:add|set|map|give|use|check) [^;]*\[sources\.[^;]*)", text)
    if own:
        return own.group(1).strip()
    low = text.lower()
    status = _STATUS.search(text)
    code = int(status.group(1)) if status else None
    if re.search(r"\b(group|team|agent|assignee|responder|owner)\b", low) and (
            code in (400, 422) or "unknown" in low or "not a" in low or "invalid" in low or "not found" in low):
        return ("map the deskwatch team/agent name to the helpdesk's id in [sources.<name>.groups] or "
                "[sources.<name>.agents] (or fix the name in [routing]), then restart the daemon")
    if code == 403 or "permission" in low or "not authorized" in low:
        return "give the API user permission to update this ticket (or leave it out of routing); other tickets are unaffected"
    if code == 404 or "not found" in low or "deleted" in low:
        return "the ticket is gone from the helpdesk; nothing to do"
    if code in (400, 422) or "rejected" in low or "invalid" in low:
        return "the helpdesk refused a value in this update: check the field named in the error against the helpdesk's settings"
    return "see the error; the daemon retries it" if "retry" in low else "see the error"
