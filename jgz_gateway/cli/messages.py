"""``jgz parse``, ``jgz build``, ``jgz validate``: DOB messages in and out of the canonical model."""

from __future__ import annotations

from . import app  # noqa: F401
