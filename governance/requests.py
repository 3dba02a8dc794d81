"""The block/allow request register: staff ask, the DSL (or the network manager, where delegated) decides.

KCSIE and the DfE standards ask schools to document what is blocked or allowed and why. Each request keeps
who asked and why; each decision who decided, in which role, when, why and the filter change made. Approving
schedules a follow-up filter test of the URL for the affected group (`governance.followup`), whose result
the register shows, so a change that never reached the filter is visible. Every change is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from governance.config import GovernanceConfig
from governance.errors import GovernanceForbidden, GovernanceInvalid, GovernanceState
from governance.tables import delegations as D
from governance.tables import requests as R

KINDS: dict[str, str] = {"block": "Block this site", "unblock": "Unblock (allow) this site"}

REQUEST_CATEGORIES: dict[str, str] = {
    "education": "Teaching and learning resources (subject sites, research, revision)",
    "health_support": "Health, wellbeing and support services (Childline, Samaritans, sexual health)",
    "news_reference": "News, reference and encyclopaedias",
    "video_streaming": "Video and streaming sites",
    "social_media": "Social media and messaging",
    "games": "Games and game sites",
    "ai_tools": "Generative AI services (chat assistants, image generators, homework solvers)",
    "shopping": "Shopping and auctions",
    "file_sharing": "File sharing and cloud storage",
    "malware_phishing": "Malware, phishing and scams",
    "circumvention": "Proxies, VPNs and other ways round the filter",
    "gambling": "Gambling",
    "pornography": "Pornography and adult content",
    "violence_extremism": "Violence, weapons, hate and extremism",
    "self_harm": "Self-harm, suicide and eating disorders",
    "illegal_content": "Illegal content (IWF child abuse list, CTIRU terrorism list)",
    "other": "Anything else",
}
"""What a request is about; the DSL may delegate clear-cut categories to the network manager."""

NEVER_UNBLOCK = frozenset({"illegal_content"})
"""The DfE standard: IWF and CTIRU lists cannot be disabled or overridden by anyone, at any level."""

STATUSES = ("pending", "approved", "declined")
FOLLOWUP = ("none", "unconfigured", "scheduled", "passed", "failed", "error")
MAX_TEXT = 4000


def _text(value: str | None, what: str, *, minimum: int = 3) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise GovernanceInvalid(f"{what} is required (at least {minimum} characters)")
    if len(text) > MAX_TEXT:
        raise GovernanceInvalid(f"{what}: at most {MAX_TEXT} characters")
    return text


def normalise_url(raw: str) -> tuple[str, str]:
    """(url, host) from what staff typed: a bare host gets https://; only http(s) with a host name."""
    text = (raw or "").strip()
    if not text:
        raise GovernanceInvalid("the site's address is required")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").strip(".").lower()
    if parts.scheme not in ("http", "https") or not host or " " in text or len(text) > 2000:
        raise GovernanceInvalid(f"{raw!r} is not a web address (e.g. https://www.example.org/page)")
    return text, host


def _new_id(now: datetime) -> str:
    return f"R{now:%Y%m%d}-{uuid.uuid4().hex[:6]}"


def submit(
    store: CaseStore,
    *,
    school: str,
    actor: str,
    kind: str,
    url: str,
    category: str,
    group: str,
    reason: str,
) -> dict[str, Any]:
    """Record a request from a member of staff (audited); returns the stored row."""
    if kind not in KINDS:
        raise GovernanceInvalid(f"kind must be one of: {', '.join(KINDS)}")
    if category not in REQUEST_CATEGORIES:
        raise GovernanceInvalid(f"unknown category {category!r}; one of: {', '.join(REQUEST_CATEGORIES)}")
    if kind == "unblock" and category in NEVER_UNBLOCK:
        raise GovernanceInvalid("the IWF and CTIRU lists cannot be overridden by anyone: report this to the DSL")
    clean_url, host = normalise_url(url)
    group_name = _text(group, "the affected group", minimum=1)[:128]
    now = t.now()
    request_id = _new_id(now)
    row: dict[str, Any] = {
        "id": request_id,
        "school": school,
        "kind": kind,
        "url": clean_url,
        "host": host,
        "category": category,
        "group_name": group_name,
        "reason": _text(reason, "the reason"),
        "requested_by": actor,
        "requested_at": now,
        "status": "pending",
        "followup_status": "none",
    }
    with store.engine.begin() as conn:
        store.ensure_school(school, conn=conn)
        conn.execute(sa.insert(R).values(**row))
        audit.append(
            conn,
            actor=actor,
            action="governance.request",
            object_type="gov_request",
            object_id=request_id,
            school=school,
            detail={"kind": kind, "host": host, "category": category, "group": group_name},
        )
    return get(store, request_id) or row


def get(store: CaseStore, request_id: str) -> dict[str, Any] | None:
    """One request, or None."""
    with store.engine.connect() as c:
        found = c.execute(sa.select(R).where(R.c.id == request_id)).first()
    return t.row_dict(found) if found else None


def list_requests(
    store: CaseStore,
    schools: Sequence[str],
    *,
    requested_by: str | None = None,
    only_categories: Mapping[str, Collection[str]] | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Requests in these schools, newest first; `only_categories` limits a school to some categories."""
    where: list[sa.ColumnElement[bool]] = [R.c.school.in_(list(schools))]
    if requested_by is not None:
        where.append(R.c.requested_by == requested_by)
    if only_categories is not None:
        parts = [sa.and_(R.c.school == s, R.c.category.in_(sorted(c))) for s, c in only_categories.items() if c]
        where.append(sa.or_(*parts) if parts else sa.false())
    if status:
        where.append(R.c.status == status)
    if since:
        where.append(R.c.requested_at >= since)
    if until:
        where.append(R.c.requested_at < until)
    stmt = sa.select(R).where(*where).order_by(R.c.requested_at.desc(), R.c.id.desc())
    with store.engine.connect() as c:
        return [t.row_dict(r) for r in c.execute(stmt)]


def delegated(store: CaseStore, school: str) -> set[str]:
    """Request categories the DSL has delegated to the network manager in this school."""
    with store.engine.connect() as c:
        return {str(v) for v in c.execute(sa.select(D.c.category).where(D.c.school == school)).scalars()}


def set_delegations(store: CaseStore, school: str, categories: Collection[str], *, actor: str) -> set[str]:
    """Replace a school's delegated categories (audited); illegal content is never delegated."""
    wanted = set(categories)
    unknown = sorted(wanted - set(REQUEST_CATEGORIES))
    if unknown:
        raise GovernanceInvalid(f"unknown categories: {', '.join(unknown)}")
    if wanted & NEVER_UNBLOCK:
        raise GovernanceInvalid("illegal content decisions stay with the DSL")
    with store.engine.begin() as conn:
        store.ensure_school(school, conn=conn)
        before = {str(v) for v in conn.execute(sa.select(D.c.category).where(D.c.school == school)).scalars()}
        conn.execute(sa.delete(D).where(D.c.school == school))
        now = t.now()
        if wanted:
            conn.execute(
                sa.insert(D),
                [{"school": school, "category": c, "granted_by": actor, "granted_at": now} for c in sorted(wanted)],
            )
        audit.append(
            conn,
            actor=actor,
            action="governance.delegate",
            object_type="gov_delegation",
            object_id=school,
            school=school,
            detail={"before": sorted(before), "after": sorted(wanted)},
        )
    return wanted


def decider_role(roles: Collection[str], category: str, delegated_categories: Collection[str]) -> str | None:
    """The role in which someone may decide a request of this category (DSL first), or None."""
    if "dsl" in roles:
        return "dsl"
    if "network_manager" in roles and category in delegated_categories:
        return "network_manager"
    return None


def decide(
    store: CaseStore,
    request_id: str,
    *,
    actor: str,
    roles: Collection[str],
    approve: bool,
    reason: str,
    filter_change: str | None,
    config: GovernanceConfig,
    review_by: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Approve or decline a pending request; approving records the filter change and schedules a follow-up."""
    moment = now or t.now()
    with store.engine.begin() as conn:
        q = sa.select(R).where(R.c.id == request_id)
        if store.dialect == "postgresql":
            q = q.with_for_update()
        found = conn.execute(q).first()
        if found is None:
            raise GovernanceForbidden("not permitted, or no such request")
        row = t.row_dict(found)
        cats = {str(v) for v in conn.execute(sa.select(D.c.category).where(D.c.school == row["school"])).scalars()}
        role = decider_role(roles, row["category"], cats)
        if role is None:
            raise GovernanceForbidden("not permitted: this category is decided by the DSL")
        if row["status"] != "pending":
            raise GovernanceState(f"request {request_id} was already {row['status']}")
        why = _text(reason, "the reason for the decision")
        change = _text(filter_change, "the filter change made (what was changed, where)") if approve else None
        values: dict[str, Any] = {
            "status": "approved" if approve else "declined",
            "decided_by": actor,
            "decided_role": role,
            "decided_at": moment,
            "decision_reason": why,
            "filter_change": change,
            "review_by": review_by.isoformat() if review_by else None,
        }
        if approve:
            if config.plan_for(row["school"]):
                values["followup_status"] = "scheduled"
                values["followup_due"] = moment + timedelta(minutes=config.followup_delay_minutes)
            else:
                values["followup_status"] = "unconfigured"
                values["followup_detail"] = "no follow-up plan in [governance]: check the change by hand and record it"
        conn.execute(sa.update(R).where(R.c.id == request_id).values(**values))
        audit.append(
            conn,
            actor=actor,
            action="governance.decide",
            object_type="gov_request",
            object_id=request_id,
            school=row["school"],
            detail={
                "decision": values["status"],
                "role": role,
                "filter_change": change,
                "followup": values.get("followup_status", "none"),
            },
            why=why,
        )
    return {**row, **values}


EXPORT_COLUMNS = (
    "id",
    "school",
    "kind",
    "url",
    "host",
    "category",
    "group_name",
    "reason",
    "requested_by",
    "requested_at",
    "status",
    "decided_by",
    "decided_role",
    "decided_at",
    "decision_reason",
    "filter_change",
    "review_by",
    "followup_status",
    "followup_at",
    "followup_run_id",
    "followup_detail",
)
NAMED_COLUMNS = ("requested_by", "decided_by")


def export_rows(rows: Sequence[Mapping[str, Any]], *, identities: bool) -> list[dict[str, Any]]:
    """Register rows for CSV/PDF; without identities the people are replaced by their roles."""
    out = []
    for row in rows:
        item = {c: row.get(c) for c in EXPORT_COLUMNS}
        if not identities:
            item["requested_by"] = "staff member"
            item["decided_by"] = item["decided_role"] or None
        out.append(item)
    return out
