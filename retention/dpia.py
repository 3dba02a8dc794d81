"""`vigil dpia`: a record of processing / DPIA summary in Markdown, generated from the live configuration.

It describes what is collected (per configured source and its parser, and the event fields), how long each
class of data is kept per school (the effective `[retention]` policy), who can see what (the API's
permission vocabulary), where the data lives and which processors receive it. It is a starting point for
the school's DPIA, not a substitute: sections the DPO must complete are marked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from parsers.schema import EVENT_SCHEMA
from retention.policy import DATA_CLASSES, RetentionConfig, load_config
from vigil.settings import Settings

FIELD_NOTES = {
    "ts": "time of the request",
    "user": "login name, identifying the pupil or member of staff",
    "user_group": "filter group or year group",
    "client_ip": "device address",
    "client_host": "device name",
    "url": "full address requested, may contain search terms",
    "search_terms": "decoded search query",
    "raw": "the original log line, kept as evidence",
    "category": "the filter's category",
    "action": "allowed, blocked, warned...",
}
_ROLE_FALLBACK = {
    "alerts, pupil identity, raw events": "dsl, deputy_dsl (head_teacher: escalated and staff alerts)",
    "aggregate reports without identities": "dsl, deputy_dsl, network_manager, head_teacher",
    "retention settings, legal holds": "dsl",
    "audit log": "dsl, head_teacher",
}


def _md_row(*cells: object) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _redact(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unparseable URL)"


def _schools(settings: Settings, config: RetentionConfig) -> list[str]:
    names = set(settings.schools) | set(config.schools) | {s.school for s in settings.sources}
    return sorted(names) or ["default"]


def _sources(settings: Settings) -> list[str]:
    from parsers.registry import parsers

    table = parsers()
    out = ["| source | school | format | parser | where from |", "|---|---|---|---|---|"]
    for s in settings.sources:
        parser = table.get(s.format)
        desc = parser.description if parser else ("auto-detected per file" if s.format == "auto" else "unknown")
        where = s.path or (", ".join(s.hosts) and f"syslog from {', '.join(s.hosts)}") or "syslog / Kafka"
        out.append(_md_row(s.name, s.school, s.format, desc, where))
    if not settings.sources:
        out.append(_md_row("(none configured)", "", "", "files named on `vigil ingest`, syslog listeners", ""))
    return out


def _roles() -> list[str]:
    try:
        from api.auth import PERMISSIONS
    except ImportError:  # the API is optional for a CLI-only install
        rows = [_md_row(k, v, "") for k, v in _ROLE_FALLBACK.items()]
    else:
        rows = [_md_row(p.description, ", ".join(p.roles), p.note) for p in PERMISSIONS.values()]
    return ["| what | who | limits |", "|---|---|---|", *rows]


def _retention(settings: Settings, config: RetentionConfig) -> list[str]:
    schools = _schools(settings, config)
    out = ["| data | " + " | ".join(schools) + " |", "|---|" + "---|" * len(schools)]
    for cls, words in DATA_CLASSES.items():
        cells = []
        for school in schools:
            rule = config.for_school(school).describe(cls)
            period = rule.split(": ", 1)[1]
            cells.append(period.replace(" (default)", "").replace(f" (school {school} override)", " (override)"))
        out.append(_md_row(words, *cells))
    return out


def render_dpia(settings: Settings, now: datetime | None = None) -> str:
    """The Markdown record of processing for these settings."""
    config = load_config(settings.section("retention"))
    now = now or datetime.now(UTC)
    kafka = settings.section("kafka")
    notify = settings.section("notify")
    processors = [
        "- Vigil runs on the school's (or its trust's) own server; it makes no outbound calls at run time.",
    ]
    if kafka.get("bootstrap"):
        processors.append(
            f"- Kafka brokers `{kafka['bootstrap']}` (topic `{kafka.get('topic', 'vigil-raw')}`) buffer raw log "
            f"lines; set the topic's `retention.ms` to {config.kafka_topic_hours} hours."
        )
    if notify:
        host = notify.get("smtp_host") or notify.get("host") or "configured SMTP server"
        processors.append(f"- E-mail notifications go through `{host}` (alert titles and links, no raw events).")
    processors.append("- Filter, firewall and DNS vendors produce the logs; list their contracts here (DPO).")
    fields = ", ".join(f"`{n}`" + (f" ({FIELD_NOTES[n]})" if n in FIELD_NOTES else "") for n in EVENT_SCHEMA.names)
    data_dir = settings.data_dir.resolve()
    lines = [
        "# Record of processing and DPIA summary: Vigil",
        "",
        f"Generated {now.isoformat(timespec='seconds')} from the live configuration by `vigil dpia`. "
        "Sections marked (DPO) need the school's data protection officer.",
        "",
        "## Purpose and lawful basis",
        "- Purpose: safeguarding pupils online as required by KCSIE and the DfE filtering and monitoring "
        "standards (monitoring internet use, alerting the DSL to risk) and the Prevent duty.",
        "- Lawful basis (DPO to confirm): UK GDPR Art. 6(1)(e) public task / 6(1)(c) legal obligation; special "
        "category data that may be revealed by searches: Art. 9(2)(g) with DPA 2018 Sch. 1 para 18 "
        "(safeguarding of children and individuals at risk).",
        "- Data subjects: pupils, staff and guests using the school network.",
        "",
        "## What is collected",
        *_sources(settings),
        "",
        f"Each request becomes one event with these fields: {fields}.",
        "Lines that cannot be parsed are kept as rejects (`raw` line, source, time) for fault-finding.",
        "",
        "## How long it is kept",
        *_retention(settings, config),
        "",
        f"The retention job runs daily at {config.run_at} UTC (`vigil retention run`); each deletion is recorded "
        "in the audit log with the rule applied. Data under a legal hold is copied to the evidence store and "
        "kept until the hold is released.",
        "",
        "## Who can see what",
        *_roles(),
        "",
        "Every read of personal data (raw events, timelines, evidence, exports) writes an audit entry.",
        "",
        "## Where the data lives",
        f"- Warehouse (events, rejects; Parquet): `{data_dir / 'warehouse'}`, files 0600 in 0700 directories.",
        f"- Evidence under legal hold: `{data_dir / 'evidence'}`, SHA-256 checksummed.",
        f"- Case store (alerts, notes, holds, audit): `{_redact(settings.case_db_url)}`.",
        "- Encryption at rest: an encrypted volume (LUKS) or Parquet modular encryption, see docs/retention.md "
        "(DPO: record which is in place).",
        "",
        "## Processors and transfers",
        *processors,
        "",
        "## Rights of data subjects",
        "- Access: the DSL exports everything held about one pupil (events, alerts, notes, holds, access log).",
        "- Erasure and restriction: by retention; a legal hold restricts deletion for an investigation.",
        "- Objection: monitoring is a safeguarding duty; record how objections are handled (DPO).",
        "",
        "## Risks and mitigations",
        "- Misreading a search as a concern: alerts are triaged by a trained DSL; outcomes are recorded.",
        "- Access by staff without a need: role-based access per school, deny by default, audited reads.",
        "- Over-retention: daily purge with audited deletions; dry run (`vigil retention plan`) before changes.",
        "- Breach of the server: owner-only files, encryption at rest, no outbound transfers.",
        "",
    ]
    return "\n".join(lines)
