"""Generic webhooks: Slack-compatible (`{"text": ...}`) or a Teams MessageCard, posted as JSON."""

from __future__ import annotations

from typing import Any

import httpx

from cases.channels import DeliveryError, Message

COLOURS = {5: "B00020", 4: "D35400", 3: "B7950B", 2: "2E86C1", 1: "7F8C8D"}


def payload(msg: Message, fmt: str) -> dict[str, Any]:
    """The JSON body for a Slack- or Teams-style incoming webhook."""
    if fmt == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": msg.subject,
            "themeColor": COLOURS.get(msg.severity or 0, "555555"),
            "title": msg.subject,
            "text": msg.text,
            "potentialAction": [
                {"@type": "OpenUri", "name": "Open in Vigil", "targets": [{"os": "default", "uri": msg.link}]}
            ],
        }
    return {
        "text": f"{msg.subject}\n{msg.text}\n<{msg.link}|Open in Vigil>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{msg.subject}*\n{msg.text}"}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open in Vigil"}, "url": msg.link}
                ],
            },
        ],
    }


def send_webhook(url: str, msg: Message, fmt: str, *, timeout: float = 10.0) -> None:
    """POST the payload; any non-2xx answer or connection failure is a DeliveryError (retried)."""
    try:
        resp = httpx.post(url, json=payload(msg, fmt), timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        # The URL is a secret (it authorises posting) and httpx may quote it: name the failure only.
        raise DeliveryError(f"webhook: {type(exc).__name__}") from exc
    if not 200 <= resp.status_code < 300:
        raise DeliveryError(f"webhook: HTTP {resp.status_code}")
