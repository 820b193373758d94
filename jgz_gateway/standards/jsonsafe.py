"""Bounded JSON reading for every path that reads JSON from outside (FHIR Bundles, json-export documents).

The same promise as :mod:`.xmlsafe`: a document that is too large, not UTF-8, not JSON or
nested too deeply is refused with a :class:`JsonRejected` that says what and where,
never a traceback (Python's decoder raises ``RecursionError`` on deep nesting).
"""

from __future__ import annotations

import json
from typing import Any

from . import xmlsafe
from .xmlsafe import MAX_BYTES, InputRejected


class JsonRejected(InputRejected):
    """The bytes are not acceptable JSON."""


def loads(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Any:
    if len(data) > max_bytes:
        raise JsonRejected("JGZ-JSON-SIZE", f"document is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise JsonRejected("JGZ-JSON-ENCODING", f"not UTF-8: byte {exc.start}: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise JsonRejected("JGZ-JSON-SYNTAX", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                           exc.lineno) from None
    except RecursionError:
        raise JsonRejected("JGZ-JSON-DEPTH", "not accepted: arrays or objects nested too deeply") from None


def read_file(path, *, max_bytes: int = MAX_BYTES) -> Any:
    """A JSON file's content, refused before reading when too large. ``OSError`` passes through."""
    try:
        data = xmlsafe.read_file(path, max_bytes=max_bytes)  # the same bounded read as for XML
    except xmlsafe.XmlRejected as exc:
        raise JsonRejected("JGZ-JSON-SIZE", exc.message) from None
    return loads(data, max_bytes=max_bytes)
