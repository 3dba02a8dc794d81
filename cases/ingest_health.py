"""Tell the network manager when a log source goes silent (DfE: every internet feed filtered and monitored).

`ingest.health.source_status` decides silence (counted in school hours). Each silence episode of a source
is notified once: its reference carries the source's last-seen time, so a source that recovers and goes
quiet again is a new episode. Messages name the feed and the school, never a pupil.
"""

from __future__ import annotations

from datetime import datetime

from cases.channels import Message
from cases.channels.config import NotifyConfig
from cases.notify import Recipient, _contact, _hook, queue
from cases.store import CaseStore
from ingest.health import source_status
from vigil.settings import Settings


def network_manager_recipients(cfg: NotifyConfig, school: str) -> list[Recipient]:
    """The school's network-manager contacts and webhooks."""
    conf = cfg.schools.get(school)
    if conf is None:
        return []
    out = [_contact(c) for c in conf.contacts if c.role == "network_manager"]
    return out + [_hook(w) for w in conf.webhooks if w.role == "network_manager"]


def silent_message(
    cfg: NotifyConfig, school: str, name: str, kind: str, since: datetime | None, minutes: float
) -> Message:
    """What the network manager is told about one silent feed."""
    when = since.strftime("%d %b %H:%M UTC") if since else "it was set up"
    return Message(
        subject=f"Vigil: log source {name} is silent",
        text=(
            f"No log lines have arrived from {name} ({kind}) since {when}: {minutes:.0f} minutes of school time. "
            "Monitoring is blind to this feed until it recovers: check the device, its log forwarding and "
            "the network path."
        ),
        link=cfg.link(f"/network?school={school}"),
        school=school,
        event="ingest_silent",
    )


def queue_silent_sources(store: CaseStore, settings: Settings, cfg: NotifyConfig, now: datetime) -> int:
    """Queue one notification per silent source and episode for the configured schools; returns how many."""
    queued = 0
    for st in source_status(settings, now=now):
        if not st.silent or st.school not in cfg.schools:
            continue
        recipients = network_manager_recipients(cfg, st.school)
        if not recipients:
            continue
        episode = st.last_seen.isoformat() if st.last_seen else "never"
        ids = queue(
            store,
            ref=f"silent:{st.school}:{st.name}:{episode}",
            event="ingest_silent",
            school=st.school,
            recipients=recipients,
            message=silent_message(cfg, st.school, st.name, st.kind, st.last_seen, st.silent_minutes),
            now=now,
        )
        queued += len(ids)
    return queued
