"""The case store: alerts, triage workflow, users and the append-only audit log."""
