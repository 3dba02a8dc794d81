"""`vigil syslog`: listen for syslog (UDP/TCP/TLS); ingest via the durable spool, or forward to Kafka."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add `vigil syslog` to the app."""

    @app.command("syslog")
    def syslog(
        listen: Annotated[
            list[str] | None,
            typer.Option("--listen", help="udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (repeatable)."),
        ] = None,
        cert: Annotated[str | None, typer.Option("--cert", help="TLS certificate (PEM) for tls://.")] = None,
        key: Annotated[str | None, typer.Option("--key", help="TLS private key (PEM) for tls://.")] = None,
        fmt: Annotated[str, typer.Option("--format", help="Parser for every sender (else per source).")] = "auto",
        school: Annotated[str | None, typer.Option("--school", help="School for every sender.")] = None,
        metrics_port: Annotated[
            int | None, typer.Option("--metrics-port", help="Serve Prometheus /metrics on 127.0.0.1:PORT.")
        ] = None,
        no_detect: Annotated[bool, typer.Option("--no-detect", help="Store events without running detectors.")] = False,
    ) -> None:
        """Receive syslog until SIGTERM; print a summary (lines, events, rejects, alerts, seconds)."""
        import time

        from ingest.syslog_service import run_syslog

        settings = get_settings()
        started = time.perf_counter()
        summary = run_syslog(
            settings,
            listen or [],
            cert=cert,
            key=key,
            fmt=fmt,
            school=school,
            metrics_port=metrics_port,
            detect=not no_detect,
        )
        st, ing = summary.listener, summary.ingested
        seconds = time.perf_counter() - started
        tail = (
            f"events {ing.events:,}  rejects {ing.rejects + st.malformed:,}  alerts {ing.alerts:,}"
            if ing is not None
            else f"malformed {st.malformed:,}  (produced to Kafka)"
        )
        typer.echo(
            f"syslog: frames {st.frames:,}  lines {st.lines:,}  durable {st.durable:,}  "
            f"dropped {st.dropped:,}  {tail}  seconds {seconds:.2f}"
        )
