"""Errors of the governance records; the API maps them through the case-store classes they derive from."""

from cases.errors import InvalidInput, InvalidTransition, NotPermitted


class GovernanceInvalid(InvalidInput):
    """A request, concern, review or policy value is malformed (HTTP 422, CLI one line)."""


class GovernanceForbidden(NotPermitted):
    """The caller may not see or change this record (also for records that do not exist: 403 either way)."""


class GovernanceState(InvalidTransition):
    """The record is not in a state that allows this change (decided, signed off...)."""
