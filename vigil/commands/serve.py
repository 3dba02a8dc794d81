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
        workers: Annotated[int, typer.Option("--workers", help="Worker processes (default 1).", min=1, max=64)] = 1,
    ) -> None:
        """Migrate the case store, then serve until interrupted."""
        import os

        import uvicorn

        from api.main import SETTINGS_ENV, create_app

        settings = get_settings()
        application = create_app(settings)  # migrates once, here, before any worker starts
        common = {
            "host": host or settings.host,
            "port": port or settings.port,
            "log_level": "warning",
            "proxy_headers": True,
            "server_header": False,
        }
        if workers == 1:
            uvicorn.run(application, **common)  # type: ignore[arg-type]
            return
        # Worker processes rebuild the app from these exact settings (CLI flags included).
        os.environ[SETTINGS_ENV] = settings.model_dump_json()
        uvicorn.run("api.main:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
