"""Log parsers: one module per format, each turning raw lines into EVENT_SCHEMA rows or rejects."""
