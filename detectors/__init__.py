"""Detectors: safeguarding keywords, circumvention and blocked-attempt rules over event batches."""
