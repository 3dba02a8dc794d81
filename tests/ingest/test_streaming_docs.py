"""Every key of `[kafka]`, `[syslog]` and the health keys of `[ingest]` is documented in docs/deployment.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.streamconfig import HealthConfig, KafkaConfig, SyslogConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


@pytest.mark.parametrize("model", [KafkaConfig, SyslogConfig, HealthConfig])
def test_every_streaming_setting_is_documented(model: type) -> None:
    text = DOC.read_text()
    # As a TOML key (`name = ...`, possibly commented out) or in backquotes.
    missing = [n for n in model.model_fields if not re.search(rf"(^|[\s#;`]){n}( = |`)", text, re.M)]
    assert not missing, f"{model.__name__} keys missing from docs/deployment.md: {missing}"
