"""Notify test fixtures: a real SMTP server on loopback (aiosmtpd, STARTTLS with a self-signed certificate
made here), a local webhook receiver, a SYNTHETIC case store, and [notify] settings pointing at them."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (dev extra) is needed")
x509 = pytest.importorskip("cryptography.x509", reason="cryptography (dev extra) makes the test certificate")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(dirpath: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (PEM cert, PEM key)."""
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = dirpath / "cert.pem", dirpath / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    """What the SMTP server received: raw message bytes, envelope recipients, and whether TLS was on."""

    messages: list[bytes] = field(default_factory=list)
    rcpts: list[list[str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(bytes(envelope.original_content or envelope.content))
        self.rcpts.append(list(envelope.rcpt_tos))
        self.tls.append(session.ssl is not None)
        return "250 OK"

    def clear(self) -> None:
        self.messages.clear()
        self.rcpts.clear()
        self.tls.clear()


@dataclass
class Smtp:
    host: str
    port: int
    ca_file: Path
    box: Mailbox


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smtp]:
    """aiosmtpd on loopback that requires STARTTLS (plain MAIL FROM is refused)."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    box = Mailbox()
    port = free_port()
    controller = aiosmtpd_controller.Controller(
        box, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True
    )
    try:
        controller.start()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"LOUD SKIP: aiosmtpd could not start on loopback: {exc}")
    yield Smtp("127.0.0.1", port, cert, box)
    controller.stop()


@dataclass
class Hooks:
    """Bodies posted to the local webhook receiver; `fail` makes it answer 500 that many times."""

    port: int
    bodies: list[bytes] = field(default_factory=list)
    fail: int = 0


@pytest.fixture(scope="session")
def webhook_server() -> Iterator[Hooks]:
    """A local HTTP server that records JSON posts (Teams/Slack webhook stand-in)."""
    hooks = Hooks(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server hook
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if hooks.fail > 0:
                hooks.fail -= 1
                self.send_response(500)
                self.end_headers()
                return
            json.loads(body)
            hooks.bodies.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hooks
    server.shutdown()


def notify_section(smtp: Smtp, hooks: Hooks, **extra: Any) -> dict[str, Any]:
    """A [notify] table: school north with DSL, deputy and head contacts, an out-of-hours contact, a webhook."""
    section: dict[str, Any] = {
        "base_url": "https://vigil.north.example",
        "sweep_seconds": 0,
        "smtp": {
            "host": smtp.host,
            "port": smtp.port,
            "starttls": True,
            "ca_file": str(smtp.ca_file),
            "from_address": "vigil@north.example",
            "timeout_seconds": 5,
        },
        "retry": {"max_attempts": 3, "backoff_seconds": 30},
        # Always "in hours" unless a test says otherwise: every day, all day.
        "hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59:59"},
        "schools": {
            "north": {
                "contacts": [
                    {"name": "Dee Dsl", "role": "dsl", "email": "dsl@north.example"},
                    {"name": "Dep Uty", "role": "deputy_dsl", "email": "deputy@north.example"},
                    {"name": "Hea Dteacher", "role": "head_teacher", "email": "head@north.example"},
                ],
                "out_of_hours": [{"name": "On Call", "role": "dsl", "email": "oncall@north.example"}],
                "webhooks": [{"name": "dsl-channel", "url": f"http://127.0.0.1:{hooks.port}/hook", "format": "teams"}],
            }
        },
    }
    section.update(extra)
    return section
