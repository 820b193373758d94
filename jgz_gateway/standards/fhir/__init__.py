"""A FHIR R4 view of a dossier, and back (see :mod:`.view` for what maps to what).

    bundle, coverage = to_fhir(dossier)      # plain JSON-ready dicts
    validate(bundle)                         # fhir.resources (R4B models); raises FhirError
    dossier = from_fhir(bundle)

fhir.resources is imported only by :func:`validate`, so the CLI starts fast.
"""

from __future__ import annotations

from .read import FhirError, read_bundle
from .view import View

__all__ = ["FhirError", "from_fhir", "to_fhir", "validate"]


def to_fhir(dossier, *, check: bool = True) -> tuple[dict, dict]:
    """The dossier as a Bundle (dict) and the coverage report; validated unless ``check=False``."""
    view = View(dossier)
    bundle = view.build()
    if check:
        validate(bundle)
    return bundle, view.cov.report(view.cat.version)


def from_fhir(bundle: dict):
    """A Bundle made by :func:`to_fhir` (or shaped like one) as a canonical Dossier."""
    validate(bundle)
    return read_bundle(bundle)


def validate(bundle: dict) -> None:
    """Check the Bundle against the FHIR R4B models; a problem is a :class:`FhirError`."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FhirError(f"{first['msg']} ({exc.error_count()} problem(s))", f"Bundle.{where}") from None
