"""Errors raised by the case store, workflow and accounts; the API maps each class to one HTTP status."""

from vigil.errors import VigilError


class CaseError(VigilError):
    """A case-store failure Vigil can explain in one line."""


class NotPermitted(CaseError):
    """The caller may not see or change this object (also used for objects that do not exist, so the
    answer never reveals whether something exists in another school)."""


class NotFound(CaseError):
    """An object the caller is entitled to look up does not exist (user admin only)."""


class InvalidTransition(CaseError):
    """The workflow does not allow this change from the alert's current state."""


class InvalidInput(CaseError):
    """A value given to the store is malformed (unknown role, outcome, empty note...)."""


class AuthFailed(CaseError):
    """Wrong credentials, a locked or disabled account, or a bad second factor (deliberately one message)."""


class AuditImmutable(CaseError):
    """Something tried to change or remove an audit entry."""
