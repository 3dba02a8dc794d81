"""`vigil serve`: serve the API and web UI (uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add `vigil serve` to the app."""

    @app.command("serve", help="Serve the API and web UI.")
    def serve(
        host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).", min=1, max=65535)] = None,
    ) -> None:
        """Migrate the case store, then serve until interrupted."""
        import uvicorn

        from api.main import create_app

        settings = get_settings()
        application = create_app(settings)
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            log_level="warning",
            proxy_headers=True,
            server_header=False,
        )
