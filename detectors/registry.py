"""The explicit tuple of detectors run on every ingested batch and by `vigil detect`."""

from collections.abc import Sequence

import pyarrow as pa

from detectors.base import Alert, DetectContext, Detector
from detectors.blocked import BlockedAttemptDetector
from detectors.circumvention import CircumventionDetector
from detectors.keywords import KeywordDetector

BUILTIN_DETECTORS: tuple[Detector, ...] = (
    KeywordDetector(),
    BlockedAttemptDetector(),
    CircumventionDetector(),
)


def run_detectors(
    events: pa.Table, ctx: DetectContext, detectors: Sequence[Detector] | None = None
) -> list[Alert]:
    """Every detector over one batch; alerts in a stable order (by id)."""
    if events.num_rows == 0:
        return []
    alerts: list[Alert] = []
    for detector in BUILTIN_DETECTORS if detectors is None else detectors:
        alerts.extend(detector.detect(events, ctx))
    return sorted(alerts, key=lambda a: a.id)
