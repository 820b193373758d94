"""``csv-export``: a generic vendor export with one CSV file per table.

Not any real vendor's format: a realistic example of how JGZ packages export (clients,
relations, organisations, contact moments, measurements, other observations by BDS
element number, vaccinations, consents, free text), driven entirely by ``mappings/csv-export.toml``. Point ``mapping`` at
another file to read a different export with the same machinery.

Reading streams: every table is walked once in client-key order and the rows of one
client are joined as they pass, so memory does not grow with the number of clients.
Files not sorted by client key are first sorted on disk (in chunks, then merged).
Writing appends each dossier's rows to every table and records it in a journal; an
interrupted run is resumed from the journal, and the files get their final names only
when the run is closed. The keys of the dossiers written are kept beside the files, so a
re-run into a finished export adds only what is new; a dossier whose client key the export
already holds is refused, never written twice.
"""

from __future__ import annotations

import csv
import heapq
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..standards.model import Dossier
from ..standards.xmlsafe import MAX_BYTES
from . import declarative
from .base import Coverage, Description, Loaded, Rendered, Unit, write_all
from .errors import DestinationError, SourceError
from .files import atomic_write, destination_dir, named, source_dir
from .mapping import Mapping, Table
from .rows import Bundle, Row

NAME = "csv-export"
VERSION = "1.0"
JOURNAL = ".csv-export.journal"
DONE = ".csv-export.keys"  # the source keys of the dossiers in a finished export, one per line
PARTIAL = ".partial"
CHUNK_ROWS = 200_000

# A field may hold a whole attachment (documents.csv: a base64 PDF), as large as a message may
# be; the csv module refuses fields over 128 KB unless told otherwise (a process-wide setting,
# only ever raised here).
csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))


def describe() -> Description:
    return Description(
        name=NAME, version=VERSION, formats=("CSV, one file per table",), bds_versions=("4.1.3", "4.2.0"),
        summary="Generic vendor export (example format, not a real vendor's): clients, relations, organisations, "
                "contact moments, measurements, other observations by element number, vaccinations, consents, free text")


def coverage(**options: Any) -> Coverage:
    return declarative.coverage(declarative.mapping_for(NAME, options))


# --- reading --------------------------------------------------------------------------------


def _encoding(mapping: Mapping, reading: bool = False) -> str:
    encoding = str(mapping.options.get("encoding", "utf-8"))
    return "utf-8-sig" if reading and encoding.lower() in ("utf-8", "utf8") else encoding


def _dialect(mapping: Mapping) -> dict[str, Any]:
    return {"delimiter": str(mapping.options.get("delimiter", ",")), "quotechar": '"'}


def _open_rows(path: Path, mapping: Mapping, table: Table) -> tuple[list[str], Iterator[tuple[int, list[str]]], Any]:
    """Header and (line, values) rows of a table file, checking its columns against the mapping."""
    try:
        fh = open(path, newline="", encoding=_encoding(mapping, reading=True))
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}") from None
    reader = csv.reader(fh, **_dialect(mapping))
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise SourceError(f"{path.name} line 1", None, "the file is empty; expected a header line") from None
    except UnicodeDecodeError as exc:
        fh.close()
        raise _undecodable(path, mapping, exc) from None
    except csv.Error as exc:
        fh.close()
        raise SourceError(f"{path.name} line 1", None, f"not readable as CSV: {exc}") from None
    known = set(table.columns())
    for col in header:
        if col not in known:
            fh.close()
            raise SourceError(f"{path.name} line 1", col, f"is neither mapped nor declared unmapped in "
                              f"{Path(mapping.path).name} (tables.{table.name})")
    required = [c for c in (table.key, table.client, table.link, table.by, table.value) if c]
    required += [f.name for f in table.fields]
    for col in required:
        if col not in header:
            fh.close()
            raise SourceError(f"{path.name} line 1", col, f"column missing; {Path(mapping.path).name} maps it")

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                if values:
                    yield reader.line_num, values
        except UnicodeDecodeError as exc:
            raise _undecodable(path, mapping, exc) from None
        except csv.Error as exc:
            raise SourceError(f"{path.name} line {reader.line_num}", None, f"not readable as CSV: {exc}") from None
        finally:
            fh.close()

    return header, rows(), fh


def _undecodable(path: Path, mapping: Mapping, exc: UnicodeDecodeError) -> SourceError:
    """Where the first byte the file's encoding cannot read is, by line: the decoder reads
    ahead in blocks, so the CSV reader's own line count points before it."""
    line = None
    try:
        data = path.read_bytes()
        data.decode(_encoding(mapping, reading=True))
    except UnicodeDecodeError as found:
        line = data.count(b"\n", 0, found.start) + 1
    except OSError:
        pass
    where = f"{path.name} line {line}" if line else path.name
    return SourceError(where, None, f"not readable as {_encoding(mapping)}: {exc.reason} (byte "
                       f"0x{exc.object[exc.start]:02x}); if the export is in another encoding, set "
                       f"options.encoding in {Path(mapping.path).name}")


def _keyed(path: Path, mapping: Mapping, table: Table, column: str) -> Iterator[tuple[str, int, dict[str, str]]]:
    header, rows, _ = _open_rows(path, mapping, table)
    index = header.index(column)
    width = len(header)
    for line, values in rows:
        if len(values) != width:
            raise SourceError(f"{path.name} line {line}", None, f"has {len(values)} fields; the header has {width}")
        yield values[index], line, dict(zip(header, values))


def _is_sorted(path: Path, mapping: Mapping, table: Table, column: str) -> bool:
    last = None
    for key, _, _ in _keyed(path, mapping, table, column):
        if last is not None and key < last:
            return False
        last = key
    return True


def _sorted(path: Path, mapping: Mapping, table: Table, column: str, tmp: Path) -> Iterator[tuple[str, int, dict]]:
    """Rows in client-key order: as they are when sorted, else sorted on disk in chunks."""
    if _is_sorted(path, mapping, table, column):
        yield from _keyed(path, mapping, table, column)
        return
    chunks: list[Path] = []
    rows = _keyed(path, mapping, table, column)
    header, _, _ = _open_rows(path, mapping, table)
    while True:
        chunk = [r for _, r in zip(range(CHUNK_ROWS), rows)]
        if not chunk:
            break
        chunk.sort(key=lambda r: (r[0], r[1]))
        chunk_path = tmp / f"{table.name}-{len(chunks)}.csv"
        with open(chunk_path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for key, line, data in chunk:
                w.writerow([key, line] + [data.get(h, "") for h in header])
        chunks.append(chunk_path)

    def read_chunk(p: Path) -> Iterator[tuple[str, int, dict]]:
        with open(p, newline="", encoding="utf-8") as fh:
            for values in csv.reader(fh):
                yield values[0], int(values[1]), dict(zip(header, values[2:]))

    yield from heapq.merge(*(read_chunk(p) for p in chunks), key=lambda r: (r[0], r[1]))


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per client: its row in every table, joined by client key in one streaming pass."""
    mapping = declarative.mapping_for(NAME, options)
    folder = source_dir(source)
    client = mapping.client
    paths = {}
    for table in mapping.tables.values():
        path = named(folder, table.source)
        if not path.is_file():
            if table.role == "client":
                raise SourceError(str(path), None, f"missing; {Path(mapping.path).name} reads clients from it")
            continue
        paths[table.name] = path
    with tempfile.TemporaryDirectory(prefix="jgz-csv-") as tmp:
        streams = {name: _sorted(path, mapping, mapping.tables[name],
                                 mapping.tables[name].key if mapping.tables[name].role == "client"
                                 else mapping.tables[name].client, Path(tmp))
                   for name, path in paths.items()}
        heads: dict[str, tuple[str, int, dict] | None] = {name: next(s, None) for name, s in streams.items()}
        file_of = {name: path.name for name, path in paths.items()}  # as named on disk (Clients.CSV)
        previous = None
        for key, line, data in _drain(streams, heads, client.name):
            where = f"{file_of[client.name]} line {line}"
            if key == previous:
                yield Unit(key, where, SourceError(where, client.key, "client key appears twice", key))
                continue
            bundle: dict[str, list[Row]] = {client.name: [Row(data, where)]}
            for name in streams:
                if name == client.name:
                    continue
                table = mapping.tables[name]
                rows = bundle.setdefault(name, [])
                while heads[name] is not None and heads[name][0] < key:  # rows of a client that is not there
                    yield _orphans(mapping, name, streams, heads, file_of)
                while heads[name] is not None and heads[name][0] == key:
                    _, ln, d = heads[name]
                    rows.append(Row(d, f"{file_of[name]} line {ln}", d.get(table.link) if table.link else None))
                    heads[name] = next(streams[name], None)
            yield Unit(key, where, bundle)
            previous = key
        for name in heads:  # rows after the last client
            while heads[name] is not None:
                yield _orphans(mapping, name, streams, heads, file_of)


def _orphans(mapping: Mapping, name: str, streams, heads, file_of: dict[str, str]) -> Unit:
    """One failed unit for all rows of a table whose client key is not in the client file."""
    table = mapping.tables[name]
    key = heads[name][0]
    lines = []
    while heads[name] is not None and heads[name][0] == key:
        lines.append(heads[name][1])
        heads[name] = next(streams[name], None)
    where = f"{file_of[name]} line {lines[0]}"
    more = f" (and {len(lines) - 1} more row(s): lines {', '.join(map(str, lines[1:6]))}{'...' if len(lines) > 6 else ''})" \
        if len(lines) > 1 else ""
    return Unit(key, where, SourceError(where, table.client, f"no client {key!r} in {file_of[mapping.client.name]}{more}", key))


def _drain(streams, heads, name):
    while heads[name] is not None:
        yield heads[name]
        heads[name] = next(streams[name], None)


def count(source: str | Path, **options: Any) -> int | None:
    """About how many dossiers ``source`` holds (lines of the client file), for progress bars."""
    mapping = declarative.mapping_for(NAME, options)
    path = named(Path(source), mapping.client.source)
    try:
        with open(path, "rb") as fh:
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)
    except OSError:
        return None


def field_of(element: int | str, **options: Any) -> str | None:
    """The vendor field (``table.column``) that holds a BDS element, for error messages."""
    return declarative.field_of(declarative.mapping_for(NAME, options), element)


def load(unit: Unit, **options: Any) -> Loaded:
    if isinstance(unit.payload, SourceError):
        raise unit.payload
    mapping = declarative.mapping_for(NAME, options)
    return declarative.to_dossier(mapping, unit.key, unit.payload, unit.origin, options)


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    for unit in units(source, **options):
        yield load(unit, **options).dossier


# --- writing --------------------------------------------------------------------------------


class CsvWriter:
    """Appends dossiers to one CSV file per table; journaled, so a re-run resumes."""

    def __init__(self, destination: str | Path, **options: Any):
        self.mapping = declarative.mapping_for(NAME, options)
        self.tables = list(self.mapping.tables.values())
        self.finished: set[str] = set()  # source keys of the dossiers written
        self.clients: set[str] = set()  # their client keys (the client table's key column)
        self.files: dict[str, Any] = {}
        self.journal = None
        if options.get("render_only"):  # a worker's copy: renders, never touches the files
            return
        self.folder = destination_dir(destination)
        self.journal_path = self.folder / JOURNAL
        self._open()

    def _final(self, table: Table) -> Path:
        return self.folder / table.source

    def _partial(self, table: Table) -> Path:
        return self.folder / (table.source + PARTIAL)

    def _open(self) -> None:
        sizes: dict[str, int] = {}
        done = self.folder / DONE
        if done.exists():
            self.finished.update(k for k in done.read_text(encoding="utf-8").splitlines() if k)
        if self.journal_path.exists():  # an interrupted run: keep what it committed
            for table in self.tables:  # interrupted while giving the files their final names
                if not self._partial(table).exists() and self._final(table).exists():
                    os.replace(self._final(table), self._partial(table))
            for line in self.journal_path.read_text(encoding="utf-8").splitlines():
                key, _, offsets = line.partition("\t")
                if not offsets:
                    continue  # a line cut short by the interruption
                if key:
                    self.finished.add(key)
                sizes = dict(zip([t.name for t in self.tables], map(int, offsets.split(","))))
        elif self._final(self.mapping.client).exists():  # a finished export: continue it
            for table in self.tables:
                final = self._final(table)
                if final.exists():
                    os.replace(final, self._partial(table))
            self.clients = self._client_keys()
            self.finished |= self.clients  # an export not written here: its client keys
            sizes = {t.name: self._partial(t).stat().st_size for t in self.tables if self._partial(t).exists()}
            self._journal(None, sizes)
        for table in self.tables:
            partial = self._partial(table)
            fh = open(partial, "a+b")
            keep = sizes.get(table.name, 0)
            if fh.seek(0, os.SEEK_END) < keep:
                fh.close()
                raise DestinationError(f"{partial}: shorter than its journal ({self.journal_path.name}) says; "
                                       "the interrupted export is damaged, start it again in an empty directory")
            fh.truncate(keep)
            fh.seek(0, os.SEEK_END)
            if keep == 0:
                fh.write(self._line(table.columns()))
            self.files[table.name] = fh
        if sizes.get(self.mapping.client.name) and not self.clients:  # resumed: what the truncated file holds
            self.clients = self._client_keys()
        if not self.journal_path.exists():
            self._journal(None, self._sizes())

    def _client_keys(self) -> set[str]:
        header, rows, fh = _open_rows(self._partial(self.mapping.client), self.mapping, self.mapping.client)
        try:
            index = header.index(self.mapping.client.key)
            return {values[index] for _, values in rows if len(values) > index}
        finally:
            fh.close()

    def _line(self, values: list[str]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", **_dialect(self.mapping)).writerow(values)
        return out.getvalue().encode(_encoding(self.mapping))

    def _sizes(self) -> dict[str, int]:
        return {name: fh.tell() for name, fh in self.files.items()}

    def _journal(self, key: str | None, sizes: dict[str, int]) -> None:
        """Record a committed dossier and the table sizes after it (flushed, so a killed run can resume)."""
        if self.journal is None:
            self.journal = open(self.journal_path, "a", encoding="utf-8")
        offsets = ",".join(str(sizes.get(t.name, 0)) for t in self.tables)
        self.journal.write(f"{key or ''}\t{offsets}\n")
        self.journal.flush()

    def done(self, key: str) -> bool:
        return key in self.finished

    def render_bundle(self, key: str, bundle: Bundle) -> tuple[str, dict[str, bytes]]:
        """One client's key, and its rows as the bytes to append to each table file."""
        tables = {}
        for table in self.tables:
            cols = table.columns()
            tables[table.name] = b"".join(self._line([_cell(row.data.get(c)) for c in cols])
                                          for row in bundle.get(table.name, []))
        client = self.mapping.client
        rows = bundle.get(client.name) or [Row({})]
        return _cell(rows[0].data.get(client.key)), tables

    def render(self, key: str, dossier: Dossier) -> Rendered:
        bundle, dropped = declarative.to_bundle(self.mapping, key, dossier)
        return Rendered(key, self.render_bundle(key, bundle), dropped)

    def commit(self, rendered: Rendered) -> None:
        client, tables = rendered.payload
        if client in self.clients:
            raise SourceError(f"record {rendered.key}", self.mapping.client.key,
                              f"client key {client!r} is already in this export (another dossier has this "
                              "dossier number); not written, so the export stays readable")
        for name, data in tables.items():
            if data:
                self.files[name].write(data)
        for fh in self.files.values():
            fh.flush()
        self._journal(rendered.key, self._sizes())
        self.finished.add(rendered.key)
        self.clients.add(client)

    def close(self, complete: bool = True) -> None:
        """Give the files their final names; with ``complete=False`` keep the journal to resume."""
        for fh in self.files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self.files = {}
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if not complete:
            return
        atomic_write(self.folder / DONE, "".join(f"{k}\n" for k in sorted(self.finished)).encode("utf-8"))
        for table in self.tables:
            os.replace(self._partial(table), self._final(table))
        self.journal_path.unlink(missing_ok=True)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def writer(destination: str | Path, **options: Any) -> CsvWriter:
    return CsvWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    """Write dossiers (keyed by their dossier number) to CSV files in ``destination``."""
    write_all(writer(destination, **options), dossiers)  # an error leaves what was committed journaled
