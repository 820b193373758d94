"""Write synthetic dossiers in a shipped format, as a package would export them.

For the declarative formats the BDS facts go straight through the mapping, and the
fields the mapping deliberately leaves unmapped (bookkeeping: who created a record,
a room, an injection site...) get plausible values too, as a real export has them: a
migration must show them as dropped. For ``hl7v3`` each dossier is built, validated and
written as a DOB. Deterministic for a seed and a reference date.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Callable

from . import registry
from .rows import Bundle, from_record, put
from .synth import generate
from .to_dossier import Envelope, build, buildable

USERS = ["jvdberg", "mkaya", "sdevries", "ahaddad", "pbakker", "lsmit"]
TEAMS = ["Team Noord", "Team Zuid", "Team Centrum", "Team Oost"]


def _bookkeeping(column: str, rng: random.Random, today: dt.date) -> str | None:
    """A plausible value for an unmapped bookkeeping column, by its name."""
    name = column.rsplit(".", 1)[-1]
    when = dt.datetime.combine(today - dt.timedelta(days=rng.randrange(0, 4000)), dt.time(rng.randrange(8, 17), rng.randrange(60)))
    values: dict[str, Callable[[], str]] = {
        "created_at": lambda: when.strftime("%d-%m-%Y %H:%M"), "created": lambda: when.isoformat(),
        "created_by": lambda: rng.choice(USERS), "recorded_by": lambda: rng.choice(USERS),
        "author": lambda: rng.choice(USERS), "team": lambda: rng.choice(TEAMS),
        "location": lambda: f"LOC-{rng.randrange(1, 40):02d}", "room": lambda: f"Spreekkamer {rng.randrange(1, 6)}",
        "duration_min": lambda: str(rng.choice([10, 15, 20, 30, 45])), "site": lambda: rng.choice(["LA", "RA", "LB", "RB"]),
        "stock_id": lambda: f"VRD{rng.randrange(10000, 99999)}", "phone": lambda: f"06{rng.randrange(10_000_000, 99_999_999)}",
        "source_system": lambda: "voorbeeldpakket 7.3",
    }
    make = values.get(name)
    return make() if make else None


def _fill_unmapped(mapping, bundle: Bundle, rng: random.Random, today: dt.date) -> None:
    nested = mapping.kind == "json"
    for table in mapping.tables.values():
        for row in bundle.get(table.name, []):
            for column in table.unmapped:
                if column == "unit" and table.by:  # the unit belongs to the row's kind
                    kind = row.data.get(table.by)
                    fields = table.kinds.get(kind, ())
                    unit = fields[0].unit if fields and fields[0].kind == "quantity" else None
                    if unit:
                        put(row.data, column, unit, nested)
                    continue
                value = _bookkeeping(column, rng, today)
                if value is not None and rng.random() < 0.9:
                    put(row.data, column, value, nested)


def export(fmt: str, destination: str | Path, count: int, seed: int, today: dt.date, *, bds: str = "4.2.0",
           start: int = 0, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write ``count`` synthetic dossiers in format ``fmt``: (written, already there)."""
    adapter = registry.get(fmt)
    version = buildable(bds)  # an older version is built as 4.1.3 and converted by the hl7v3 writer
    created = dt.datetime.combine(today, dt.time(12, 0))
    envelope = Envelope(created=created)
    writer = registry.open_writer(adapter, destination, bds=bds, envelope=envelope, pretty=True)
    mapping = getattr(writer, "mapping", None)
    written = skipped = 0
    complete = False
    try:
        for record in generate(count, seed, today, start):
            if writer.done(record.key):  # already there from an earlier run
                skipped += 1
                continue
            if mapping is not None and hasattr(writer, "render_bundle"):
                bundle, _ = from_record(mapping, record)
                _fill_unmapped(mapping, bundle, random.Random(f"{seed}:{record.key}:bookkeeping"), today)
                from .base import Rendered

                rendered = Rendered(record.key, writer.render_bundle(record.key, bundle))
            else:
                dossier, _ = build(record, version, envelope)
                rendered = writer.render(record.key, dossier)
            writer.commit(rendered)
            written += 1
            if progress:
                progress(written + skipped)
        complete = True
    finally:
        writer.close(complete=complete)
    return written, skipped
