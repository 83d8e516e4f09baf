"""Refusals of escalation's services; Incident.errors renders them."""
from Incident.errors import Conflict, Forbidden


class NotAcknowledgeable(Forbidden):
    code = "action_not_permitted"


class NothingToAcknowledge(Conflict):
    code = "nothing_to_acknowledge"
