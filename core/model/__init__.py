"""The data model every part of deskwatch shares.

Frozen dataclasses, passed between small functions. This module is the one place that knows
the JSON form of tickets and decisions: connectors build ``Ticket`` objects, the engine turns
them into ``Decision`` objects, the store and the CLI serialize both through the functions here.
"""

from deskwatch.core.model.types import (  # noqa: F401
    CHANNELS,
    STATUSES,
    CLOSED_STATUSES,
    PRIORITIES,
    AUTHORS,
    RECOMMENDATIONS,
    TIERS,
    MANAGEMENT,
    LEVELS,
    SLA_STATES,
    TicketError,
    Person,
    Organization,
    Message,
    StatusChange,
    Satisfaction,
    SATISFACTION_SCORES,
    Ticket,
    Signal,
    SlaTarget,
    SlaStatus,
    Route,
    Management,
    Decision,
    LearnedReading,
    TicketUpdate,
    AuditRecord,
)
from deskwatch.core.model.codec import (  # noqa: F401
    person_from_dict,
    organization_from_dict,
    message_from_dict,
    ticket_from_dict,
    ticket_to_dict,
    signal_to_dict,
    signal_from_dict,
    sla_to_dict,
    sla_from_dict,
    route_to_dict,
    route_from_dict,
    decision_to_dict,
    learned_from_dict,
    learned_to_dict,
    decision_from_dict,
    management_to_dict,
    management_from_dict,
    update_to_dict,
    update_from_dict,
)
