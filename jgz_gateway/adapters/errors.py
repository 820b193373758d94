"""Errors about data, each naming where: the file and line, the record, the field.

They are raised for bad input (a mapping file, a vendor export) and printed as one
line by the command line, never as a traceback.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of the errors below; ``str()`` is the full one-line message."""


class MappingError(AdapterError):
    """A mapping file that is wrong: names the file and the line."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class SourceError(AdapterError):
    """A source record that cannot be read: names where (file and line), the field, and why."""

    def __init__(self, where: str, field: str | None, message: str, record: str | None = None):
        self.where, self.field, self.message, self.record = where, field, message, record
        parts = [where]
        if record:
            parts.append(f"record {record}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(f"{', '.join(parts)}: {message}")


class DestinationError(AdapterError):
    """A destination that cannot be written (not a directory, not writable...)."""


class InvalidOutput(AdapterError):
    """A dossier whose written message does not pass validation; ``findings`` say why."""

    def __init__(self, key: str, findings: list, data: bytes | None = None):
        self.key, self.findings, self.data = key, findings, data
        errors = [f for f in findings if f.severity == "error"]
        first = errors[0] if errors else None
        detail = f": {first.rule} {first.message}" if first else ""
        super().__init__(f"record {key}: the message fails validation ({len(errors)} error(s)){detail}")
