"""Retention: what is expired (policy) and deleting it provably (job)."""
