"""Fuzz every path a DOB takes through the gateway with mutants of the reference messages.

Long-running, outside the test run. Each mutant (an element dropped, duplicated, moved or
swapped; an attribute dropped or garbled; a text garbled; an xsi:type changed; a
nullFlavor added) goes through what a user can do with a message: validate, parse, build
under all three interactions, convert to every BDS version, the FHIR view, ADA, the
summary, and the facts path of a migration into every vendor format. A documented error
(``MessageError``, ``ConversionError``, ...) is an answer; any other exception is a defect,
and is printed once per distinct place with the seed that reproduces it.

With ``--input ada`` the mutants are Nictiz's ADA instances (read into a DOB, built and
validated); with ``--input fhir`` they are the FHIR view of each reference message, with
a key dropped, a value replaced by one of another JSON type, or a list item repeated (read
back, built into a DOB and validated, as ``jgz parse --from fhir`` and a migration do).

With ``--input csv`` or ``--input json`` the mutants are small synthetic vendor exports
with a cell garbled, a row dropped or repeated, or a JSON value changed, migrated into NL04
as ``jgz migrate`` does; a dossier that fails must fail with its own clear error.

    .venv/bin/python tools/fuzz.py [--input dob|ada|fhir|csv|json] [--count 500] [--seed 1] [--paths validate,parse,...]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree

from jgz_gateway.adapters import registry
from jgz_gateway.adapters.base import Unit
from jgz_gateway.adapters.errors import AdapterError
from jgz_gateway.adapters.fhir import rebuilt
from jgz_gateway.standards.ada import AdaError, read_ada, write_ada_report
from jgz_gateway.standards.convert import ConversionError, convert_bytes
from jgz_gateway.standards.fhir import FhirError, from_fhir, to_fhir
from jgz_gateway.standards.hl7v3 import (
    INTERACTIONS,
    MessageError,
    read_message,
    write_message,
)
from jgz_gateway.standards.summary import summarise
from jgz_gateway.standards.validation import validate_bytes
from jgz_gateway.standards.xmlsafe import XmlRejected, parse_bytes

REFERENCE = ROOT.parent / "shared" / "reference"
ANSWERS = (MessageError, ConversionError, FhirError, AdaError, XmlRejected, AdapterError)
GARBAGE = ("", " ", "x", "0", "-1", "99999999999999999999", "1e400", "NaN", "2020-13-45", "20201345",
           "2.16.840.1.113883.2.4.6.3", "UNK", "ë漢字", "true", "1.5", "<&>", "²", "١٢")
TYPES = ("ST", "CV", "CD", "CO", "PQ", "INT", "REAL", "TS", "IVL_TS", "BL", "II", "ED", "ANY", "Nope")
XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"
TARGETS = ("4.2.0", "4.1.3", "4.0", "3.2.7")
REACHED: Counter[str] = Counter()  # attempts per path, to show the run went everywhere
ANSWERED: Counter[str] = Counter()  # of those, answered with a documented error
FORMATS = ("csv-export", "json-export", "fhir", "ada", "hl7v3")


def ada_instances() -> list[Path]:
    return sorted((REFERENCE / "ada" / "instances").glob("*.xml"))


def messages() -> list[Path]:
    examples = sorted((REFERENCE / "hl7v3" / "examples").glob("*/*.xml"))
    return [p for p in examples if "qual-templates" not in p.parent.name] + sorted((REFERENCE / "ada" / "hl7").glob("*.xml"))


def mutate(root: etree._Element, rng: random.Random) -> str:
    """Apply one random mutation in place; say which."""
    elements = [e for e in root.iter(etree.Element) if e is not root]
    el = rng.choice(elements)
    parent = el.getparent()
    kind = rng.choice(("drop", "dup", "move", "swap", "attr-drop", "attr-garble", "text", "xsitype", "null"))
    if kind == "drop":
        parent.remove(el)
    elif kind == "dup":
        el.addnext(copy.deepcopy(el))
    elif kind == "move":
        target = rng.choice(elements)
        if el not in target.iterancestors() and target is not el:
            parent.remove(el)
            target.append(el)
    elif kind == "swap":
        siblings = list(parent)
        if len(siblings) > 1:
            other = rng.choice(siblings)
            i, j = siblings.index(el), siblings.index(other)
            siblings[i], siblings[j] = siblings[j], siblings[i]
            parent[:] = siblings
    elif kind == "attr-drop" and el.attrib:
        del el.attrib[rng.choice(list(el.attrib))]
    elif kind == "attr-garble" and el.attrib:
        el.set(rng.choice(list(el.attrib)), rng.choice(GARBAGE))
    elif kind == "text":
        el.text = rng.choice(GARBAGE)
    elif kind == "xsitype":
        el.set(XSI, rng.choice(TYPES))
    elif kind == "null":
        el.set("nullFlavor", rng.choice(("NI", "UNK", "MSK", "XX")))
    return f"{kind} {root.getroottree().getpath(el) if el.getparent() is not None else el.tag}"


def mutate_json(doc, rng: random.Random) -> str:
    """Apply one random mutation to a JSON document in place; say which."""
    places: list[tuple[object, object, str]] = []  # (container, key or index, path)

    def walk(value, path):
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for k, v in items:
            places.append((value, k, f"{path}/{k}"))
            walk(v, f"{path}/{k}")

    walk(doc, "")
    container, key, path = rng.choice(places)
    kind = rng.choice(("drop", "garble", "dup"))
    if kind == "drop":
        del container[key]
    elif kind == "dup" and isinstance(container, list):
        container.insert(key, copy.deepcopy(container[key]))
    elif rng.random() < 0.7 and isinstance(container[key], (str, int, float)):  # same type: passes the models
        kind = "garble"
        old = container[key]
        container[key] = (rng.choice(GARBAGE[1:]) if isinstance(old, str) else
                          rng.choice((0, -1, 10**12, 0.5, 1e-9)) if not isinstance(old, bool) else not old)
    else:
        kind = "retype"
        container[key] = rng.choice((None, True, 0, -1, 1e308, "", "x", "2020-13-45", [], {}, [{}], {"a": 1}))
    return f"{kind} {path}"


def make(seed: int, i: int, mutations: int, sources: list) -> tuple[Path, list[str], bytes]:
    """Mutant ``i`` of ``seed``: the same message and mutations on every run."""
    rng = random.Random(f"{seed}:{i}")
    path, original = rng.choice(sources)
    if isinstance(original, dict):
        doc = copy.deepcopy(original)
        what = [mutate_json(doc, rng) for _ in range(rng.randint(1, mutations))]
        return path, what, json.dumps(doc).encode()
    root = parse_bytes(original).getroot()
    what = [mutate(root, rng) for _ in range(rng.randint(1, mutations))]
    return path, what, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def mutate_csv(files: dict[str, bytes], rng: random.Random) -> str:
    """Garble a cell, drop or repeat a row of one table of a csv export, in place; say which."""
    import csv
    import io

    name = rng.choice(sorted(n for n in files if n.endswith(".csv")))
    text = files[name].decode("utf-8")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if len(rows) < 2:
        return f"nothing in {name}"
    r = rng.randrange(len(rows)) if rng.random() < 0.05 else rng.randrange(1, len(rows))
    kind = rng.choice(("garble", "garble", "garble", "drop", "dup")) if r else "garble"
    if kind == "garble" and rows[r]:
        c = rng.randrange(len(rows[r]))
        rows[r][c] = rng.choice(GARBAGE + ("C0000001", "9999-99-99", "1" * 40, "\t", '"')) if r else "renamed"
        where = f"{name} row {r} column {rows[0][c] if c < len(rows[0]) else c}"
    else:
        where = f"{name} row {r}"
        if kind == "drop":
            del rows[r]
        else:
            rows.insert(r, list(rows[r]))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    files[name] = out.getvalue().encode("utf-8")
    return f"{kind} {where}"


def make_export(seed: int, i: int, mutations: int, sources: list) -> tuple[Path, list[str], dict[str, bytes]]:
    """Mutant ``i`` of ``seed`` of a vendor export: file name → bytes."""
    rng = random.Random(f"{seed}:{i}")
    path, original = rng.choice(sources)
    files = dict(original)
    what = []
    for _ in range(rng.randint(1, mutations)):
        if path.name == "csv":
            what.append(mutate_csv(files, rng))
        else:
            name = rng.choice(sorted(n for n in files if n.endswith(".json")))
            doc = json.loads(files[name])
            what.append(f"{name} " + mutate_json(doc, rng))
            files[name] = json.dumps(doc).encode()
    return path, what, files


def synthetic_export(fmt: str, scratch: Path) -> list[tuple[Path, dict[str, bytes]]]:
    import datetime as dt

    from jgz_gateway.adapters.synth_export import export

    where = scratch / ("csv" if fmt == "csv-export" else "json")
    export(fmt, where, 6, 1, dt.date(2025, 6, 1))
    return [(where, {p.name: p.read_bytes() for p in where.iterdir() if p.is_file()})]


def through_export(fmt: str):
    def through(files: dict[str, bytes], paths: set[str], scratch: Path) -> list[tuple[str, BaseException]]:
        import datetime as dt
        import shutil

        from jgz_gateway.adapters.migrate import migrate
        from jgz_gateway.adapters.to_dossier import Envelope

        found: list[tuple[str, BaseException]] = []
        src, dest = scratch / "src", scratch / "dest"
        for d in (src, dest):
            shutil.rmtree(d, ignore_errors=True)
        src.mkdir()
        for name, data in files.items():
            (src / name).write_bytes(data)
        options = {"bds": "4.2.0", "envelope": Envelope(created=dt.datetime(2025, 6, 1, 12))}
        attempt = _attempt(paths, found)
        summary = attempt("migrate", migrate, fmt, src, "hl7v3", dest, workers=1,
                          source_options=options, dest_options=options)
        if summary is not None and summary.errors_dir and Path(summary.errors_dir).is_dir():
            for error in sorted(Path(summary.errors_dir).glob("*.txt")):
                text = error.read_text(encoding="utf-8")
                if "unexpected error" in text:
                    found.append(("migrate:dossier", RuntimeError(text[:4000])))
        return found

    return through


def sources_of(kind: str) -> list[tuple[Path, object]]:
    if kind == "ada":
        return [(p, p.read_bytes()) for p in ada_instances()]
    if kind == "fhir":
        return [(p, to_fhir(read_message(p.read_bytes()))[0]) for p in messages()]
    return [(p, p.read_bytes()) for p in messages()]


def built_and_validated(dossier, attempt) -> None:
    """A dossier read from another format, as the gateway then sends it."""
    for interaction in INTERACTIONS:
        data = attempt(f"build:{interaction}", write_message, dossier, interaction)
        if data is not None:
            attempt("validate", validate_bytes, data)


def through_ada(data: bytes, paths: set[str], scratch: Path) -> list[tuple[str, BaseException]]:
    found: list[tuple[str, BaseException]] = []
    attempt = _attempt(paths, found)
    dossier = attempt("parse", read_ada, data)
    if dossier is not None:
        built_and_validated(dossier, attempt)
    return found


def through_fhir(data: bytes, paths: set[str], scratch: Path) -> list[tuple[str, BaseException]]:
    found: list[tuple[str, BaseException]] = []
    attempt = _attempt(paths, found)
    bundle = json.loads(data)
    read = attempt("parse", from_fhir, bundle)
    if read is not None:
        loaded = attempt("migrate:facts", rebuilt, read, "m", "<fuzz>", {})
        if loaded is not None:
            built_and_validated(loaded.dossier, attempt)
    return found


def _attempt(paths: set[str], found: list):
    def attempt(name, fn, *args, **kwargs):
        if name.split(":")[0] not in paths:
            return None
        REACHED[name.split(":")[0]] += 1
        try:
            return fn(*args, **kwargs)
        except ANSWERS:
            ANSWERED[name.split(":")[0]] += 1
            return None
        except Exception as exc:  # noqa: BLE001 - the point of the exercise
            found.append((name, exc))
            return None

    return attempt


def through_everything(data: bytes, paths: set[str], scratch: Path) -> list[tuple[str, BaseException]]:
    """Every path the message can take; the unexpected exceptions, by path."""
    found: list[tuple[str, BaseException]] = []
    attempt = _attempt(paths, found)
    attempt("validate", validate_bytes, data)
    dossier = attempt("parse", read_message, data)
    if dossier is None:
        return found
    for interaction in INTERACTIONS:
        attempt(f"build:{interaction}", write_message, dossier, interaction)
    for target in TARGETS:
        attempt(f"convert:{target}", convert_bytes, data, target)
    attempt("fhir", to_fhir, dossier)
    attempt("ada", write_ada_report, dossier)
    attempt("summary", summarise, dossier, "<fuzz>")
    if "migrate" in paths:
        source = registry.get("hl7v3")
        (scratch / "m.xml").write_bytes(data)
        loaded = attempt("migrate:load", registry.load, source, Unit("m", "<fuzz>", str(scratch / "m.xml")))
        if loaded is not None:
            for fmt in FORMATS:
                writer = registry.open_writer(registry.get(fmt), scratch / fmt, render_only=True)
                attempt(f"migrate:{fmt}", writer.render, "m", loaded.dossier)
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", choices=("dob", "ada", "fhir", "csv", "json"), default="dob", help="what is mutated")
    ap.add_argument("--count", type=int, default=500, help="mutants")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mutations", type=int, default=2, help="mutations per mutant (1..N)")
    ap.add_argument("--paths", default="validate,parse,build,convert,fhir,ada,summary,migrate")
    ap.add_argument("--write", type=int, metavar="I", help="write mutant I of --seed to stdout, run nothing")
    args = ap.parse_args(argv)
    if args.write is not None:
        sys.stdout.buffer.write(make(args.seed, args.write, args.mutations, sources_of(args.input))[2])
        return 0
    paths = set(args.paths.split(","))
    defects: dict[tuple, tuple] = {}
    per_path: Counter[str] = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jgz-fuzz-") as tmp:
        if args.input in ("csv", "json"):
            fmt = f"{args.input}-export"
            sources, maker, through = synthetic_export(fmt, Path(tmp) / "export"), make_export, through_export(fmt)
        else:
            sources, maker = sources_of(args.input), make
            through = {"dob": through_everything, "ada": through_ada, "fhir": through_fhir}[args.input]
        for i in range(args.count):
            path, what, data = maker(args.seed, i, args.mutations, sources)
            for name, exc in through(data, paths, Path(tmp)):
                tb = traceback.extract_tb(exc.__traceback__)
                frame = tb[-1] if tb else traceback.FrameSummary(str(exc)[:300], 0, "")
                key = (name.split(":")[0], type(exc).__name__, frame.filename, frame.lineno)
                per_path[name.split(":")[0]] += 1
                defects.setdefault(key, (i, path.name, what, name, exc, traceback.format_exception(exc)))
            if (i + 1) % 100 == 0:
                print(f"{i + 1} mutants, {len(defects)} distinct defects, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
    for (_, kind, file, line), (i, name, what, where, _exc, tb) in sorted(defects.items(), key=lambda kv: kv[0]):
        print(f"\n== {where}: {kind} at {Path(file).name}:{line} (mutant {i} of seed {args.seed}, {name})")
        print("   mutations: " + "; ".join(what))
        print("   " + "   ".join(tb[-3:]).rstrip())
    print(f"\n{args.count} mutants, {len(defects)} distinct defects; unexpected exceptions per path: "
          f"{dict(per_path) or 'none'}; {time.perf_counter() - started:.0f} s")
    print("attempts per path (documented errors): "
          + ", ".join(f"{k} {v} ({ANSWERED[k]})" for k, v in sorted(REACHED.items())))
    return 1 if defects else 0


if __name__ == "__main__":
    raise SystemExit(main())
