"""Errors raised by filter-effectiveness tests (plans, runs, records, schedule)."""

from vigil.errors import ConfigError, VigilError


class FilterTestError(VigilError):
    """A filter-test failure Vigil can explain in one line."""


class PlanError(ConfigError, FilterTestError):
    """A test plan (YAML) is missing, unreadable or invalid."""


class ScheduleError(ConfigError, FilterTestError):
    """`[filtertests]` in the configuration is invalid (schedule spec, plan path...)."""


class RecordError(FilterTestError):
    """A run or result cannot be found in scope, or an action note is invalid."""
