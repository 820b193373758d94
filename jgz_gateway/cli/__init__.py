"""The ``jgz`` command line: thin commands over the modules of the package.

Each command group lives in its own module and registers itself on :data:`app`.
Heavy libraries are imported inside the commands so start-up stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="jgz",
    help="jgz-gateway: BDS JGZ catalogue, DOB messages, validation, conversion and transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from . import messages  # noqa: E402,F401  (registers parse/build/validate)
from . import bds  # noqa: E402,F401
from . import transfer  # noqa: E402,F401  (certs, orgs, send, transfers, serve, audit)
from . import convert  # noqa: E402,F401  (convert, fhir)
from . import adapters  # noqa: E402,F401  (adapters, synth, migrate)



def main() -> None:  # pragma: no cover - console entry
    app()
