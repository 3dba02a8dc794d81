"""Governance records: block/allow register, staff-reported concerns, the annual review, AI-tool use."""
