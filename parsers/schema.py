"""The event and reject schemas (version 1): the one table every parser writes and every reader reads.

See docs/schema.md; changing a column here is a schema-version change (docs/adr/0001-event-schema.md).
"""

import pyarrow as pa

SCHEMA_VERSION = 1

TS = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("ts", TS),
        pa.field("school", pa.string()),
        pa.field("source", pa.string()),
        pa.field("observer", pa.string()),
        pa.field("user", pa.string()),
        pa.field("user_group", pa.string()),
        pa.field("client_ip", pa.string()),
        pa.field("client_host", pa.string()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("action", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("category", pa.string()),
        pa.field("method", pa.string()),
        pa.field("url", pa.string()),
        pa.field("host", pa.string()),
        pa.field("registered_domain", pa.string()),
        pa.field("path", pa.string()),
        pa.field("query", pa.string()),
        pa.field("status", pa.int32()),
        pa.field("bytes_in", pa.int64()),
        pa.field("bytes_out", pa.int64()),
        pa.field("duration_ms", pa.int32()),
        pa.field("user_agent", pa.string()),
        pa.field("referrer", pa.string()),
        pa.field("content_type", pa.string()),
        pa.field("search_terms", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("origin", pa.string()),
    ],
    metadata={"vigil.schema_version": str(SCHEMA_VERSION)},
)

REJECT_SCHEMA = pa.schema(
    [
        pa.field("ts_ingested", TS),
        pa.field("school", pa.string()),
        pa.field("source", pa.string()),
        pa.field("origin", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
    ],
    metadata={"vigil.schema_version": str(SCHEMA_VERSION)},
)

ACTIONS = ("allowed", "blocked", "warned", "proceeded", "error")
"""The normalised action vocabulary; every parser maps its vendor's words onto these."""

EVENT_COLUMNS = tuple(EVENT_SCHEMA.names)
