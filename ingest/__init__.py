"""Ingest: sources (files, syslog, Kafka), the batch worker and durable checkpoints."""
