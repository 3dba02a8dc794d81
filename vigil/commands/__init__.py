"""Subcommands of `vigil`, one module each; every module exposes `register(app)`. Listed explicitly."""

from types import ModuleType

from vigil.commands import (
    demo,
    detect,
    dpia,
    filtertest,
    governance,
    ingest,
    lists,
    model,
    notify,
    parse,
    report,
    retention,
    serve,
    status,
    syslog,
    users,
    warehouse,
)

COMMAND_MODULES: tuple[ModuleType, ...] = (
    parse,
    ingest,
    syslog,
    detect,
    serve,
    demo,
    users,
    retention,
    filtertest,
    lists,
    model,
    status,
    dpia,
    warehouse,
    notify,
    report,
    governance,
)
