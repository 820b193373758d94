"""Small file helpers: nothing written is ever half-written."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DestinationError


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DestinationError(f"{path}: cannot write: {exc.strerror}") from None


def destination_dir(path: str | Path) -> Path:
    """``path`` as an existing, writable directory (created when missing)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DestinationError(f"{path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DestinationError(f"{path}: cannot create directory: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise DestinationError(f"{path}: directory is not writable")
    return path


def source_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        from .errors import SourceError

        raise SourceError(str(path), None, "is not a directory" if path.exists() else "does not exist")
    return path


def file_units(source: str | Path, pattern: str | tuple[str, ...]):
    """One unit per file matching ``pattern`` (or one of several, case ignored) in a directory
    (sorted by name), or the one file given. For formats that keep one dossier per file (hl7v3,
    ada, fhir)."""
    from .base import Unit
    from .errors import SourceError

    path = Path(source)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = _matching(path, pattern)
    else:
        raise SourceError(str(path), None, "does not exist")
    for f in files:
        yield Unit(key=f.stem, origin=str(f), payload=str(f))


def file_count(source: str | Path, pattern: str | tuple[str, ...]) -> int | None:
    """How many dossiers ``source`` holds (files), for progress bars."""
    path = Path(source)
    if not path.is_dir():
        return 1 if path.is_file() else None
    return len(_matching(path, pattern))


def named(folder: Path, name: str) -> Path:
    """``folder / name``, or the one file there whose name differs from it only in case (an
    export made on Windows: ``Clients.CSV``); a table file is never passed over for its case."""
    exact = folder / name
    if exact.is_file() or not folder.is_dir():
        return exact
    alike = [p for p in folder.iterdir() if p.is_file() and p.name.lower() == name.lower()]
    return alike[0] if len(alike) == 1 else exact


def _matching(folder: Path, pattern: str | tuple[str, ...]) -> list[Path]:
    """The files in ``folder`` whose names match a pattern, ignoring case (an export made on
    Windows names its files ``*.XML`` as often as ``*.xml``), sorted by name. Hidden files are
    not dossiers: macOS leaves ``._name.xml`` beside each file it copies, this gateway its
    journals (``.csv-export.journal``)."""
    from fnmatch import fnmatch

    patterns = (pattern,) if isinstance(pattern, str) else pattern
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and any(fnmatch(p.name.lower(), one) for one in patterns))


class FileWriter:
    """One file ``<key><suffix>`` per dossier in a folder; a re-run skips files already there.

    Subclasses set ``suffix`` and implement ``render`` (run in a worker); committing is an
    atomic write, so no file is ever half-written.
    """

    suffix = ""

    def __init__(self, destination: str | Path, **options):
        self.folder = Path(destination) if options.get("render_only") else destination_dir(destination)

    def path(self, key: str) -> Path:
        from .base import safe_name

        return self.folder / f"{safe_name(key)}{self.suffix}"

    def done(self, key: str) -> bool:
        return self.path(key).exists()

    def commit(self, rendered) -> None:
        atomic_write(self.path(rendered.key), rendered.payload)

    def close(self, complete: bool = True) -> None:
        pass
