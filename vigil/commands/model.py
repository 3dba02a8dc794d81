"""`vigil model`: train and evaluate detection models (`vigil model train --keywords`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vigil.errors import VigilError


def _train_keywords(data: Path | None, out: Path | None, regenerate: bool) -> dict[str, object]:
    from detectors.riskmodel import MODEL_PATH, train
    from detectors.trainingdata import QUERIES_CSV, write_csv

    csv_path = data or QUERIES_CSV
    if regenerate:
        rows = write_csv(csv_path)
        typer.echo(f"regenerated {rows} labelled queries in {csv_path}", err=True)
    if not csv_path.is_file():
        raise VigilError(f"model train: training data {csv_path} not found")
    target = out or MODEL_PATH
    metrics = train(csv_path, target)
    return {"model": "keywords", "path": str(target), "data": str(csv_path), "metrics": metrics}


def _train_circumvention(out: Path | None) -> dict[str, object]:
    try:
        from detectors.domain_model import train_default
    except ImportError as exc:  # the circumvention capability is not installed in this build
        raise VigilError("model train --circumvention: not yet available (circumvention detection issue)") from exc
    return train_default(out)


def register(app: typer.Typer) -> None:
    """Add `vigil model` (a sub-app: `vigil model train`) to the app."""
    model_app = typer.Typer(help="Train and evaluate detection models.", no_args_is_help=True)

    @model_app.command("train")
    def train_cmd(
        keywords: Annotated[bool, typer.Option("--keywords", help="Train the keyword risk model.")] = False,
        circumvention: Annotated[
            bool, typer.Option("--circumvention", help="Train the circumvention domain model.")
        ] = False,
        data: Annotated[Path | None, typer.Option("--data-file", help="Labelled CSV (default: shipped).")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Where to write the model (default: shipped).")] = None,
        regenerate: Annotated[
            bool, typer.Option("--regenerate-data", help="Rebuild the labelled CSV from the seeds first.")
        ] = False,
    ) -> None:
        """Train deterministically (fixed seeds) and print held-out metrics as JSON."""
        if not keywords and not circumvention:
            keywords = True
        if keywords and circumvention and out is not None:
            raise VigilError("model train: --out names one file; train one model at a time with it")
        if keywords:
            typer.echo(json.dumps(_train_keywords(data, out, regenerate), indent=2, sort_keys=True))
        if circumvention:
            typer.echo(json.dumps(_train_circumvention(out), indent=2, sort_keys=True, default=str))

    app.add_typer(model_app, name="model")
