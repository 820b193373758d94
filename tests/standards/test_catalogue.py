"""The BDS catalogue against the reference artefacts it was built from (../shared/reference/bds)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from jgz_gateway.cli import app
from jgz_gateway.standards import catalogue as C

MAIN = Path(__file__).resolve().parents[2]
SHARED = MAIN.parent / "shared"
REF = SHARED / "reference" / "bds"
LIST_VERSIONS = ("3.2.6", "4.0.2", "4.2.0")
VS = "2.16.840.1.113883.2.4.3.11.60.100.11."

needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="reference artefacts not present")


def published_list(version: str, w: str) -> dict[str, tuple[str, str]]:
    """{code: (displayName, type)} of W0639/W0646/W0647 in a version's codelist XML."""
    tree = etree.parse(str(REF / "codelists" / f"bds-{version}_valuesets.xml"))
    vs = tree.find(f"valueSet[@id='{VS}2.{int(w[1:])}']")
    return {c.get("code"): (c.get("displayName"), c.get("type")) for c in vs.iterfind("conceptList/concept")}


def voc_files() -> list[etree._Element]:
    out = []
    for path in sorted((REF / "valuesets-4.1.3" / "voc").glob("voc-*.xml")):
        vs = etree.parse(str(path)).find("valueSet")
        if vs is not None:
            out.append(vs)
    return out


# --------------------------------------------------------------------------- versions


def test_version_aliases() -> None:
    assert C.normalise_version("3.2") == C.normalise_version("3.2.7") == "3.2.6"
    assert [C.normalise_version(v) for v in ("4.0", "4.1", "4.2", "BDS 4.2.0")] == ["4.0.2", "4.1.3", "4.2.0", "4.2.0"]
    assert C.get_catalogue("3.2.7") is C.get_catalogue("3.2.6")
    with pytest.raises(C.UnknownVersion):
        C.normalise_version("4.3")


# --------------------------------------------------------------------------- lists per version


@needs_ref
@pytest.mark.parametrize("version", LIST_VERSIONS)
def test_members_names_and_status_match_the_published_lists(version: str) -> None:
    cat = C.get_catalogue(version)
    for w, items in (("W0647", cat.elements()), ("W0646", cat.groepen()), ("W0639", cat.rubrieken())):
        published = published_list(version, w)
        ours = {(str(i.number) if isinstance(i, C.Element) else i.code): i for i in items}
        assert set(ours) == set(published), w
        for code, (name, ctype) in published.items():
            assert ours[code].name == name
            assert ours[code].status == {"L": "active", "D": "deprecated"}[ctype]
            assert cat.display_name(code) == name
    assert cat.complete


@needs_ref
def test_deprecated_elements_in_420_are_the_type_d_concepts() -> None:
    type_d = {int(c) for c, (_, t) in published_list("4.2.0", "W0647").items() if t == "D"}
    assert type_d  # 481, 827 ... (jgz-standards §1.6)
    assert {e.number for e in C.get_catalogue("4.2.0").elements() if e.deprecated} == type_d


@needs_ref
def test_new_in_420_are_1608_to_1690() -> None:
    new = set(published_list("4.2.0", "W0647")) - set(published_list("4.0.2", "W0647"))
    d = C.diff("4.0.2", "4.2.0")
    assert set(d.elements_added) == {int(n) for n in new}
    assert min(d.elements_added) == 1608 and max(d.elements_added) == 1690
    assert not d.elements_removed


@needs_ref
def test_40_drops_and_additions_from_the_standards_doc() -> None:
    """jgz-standards.md §1.2: '4.0 dropped 139, 143, ... (relative to 3.2.6), and added ...'."""
    text = (SHARED / "docs" / "jgz-standards.md").read_text(encoding="utf-8")
    m = re.search(r"4\.0 dropped (.*?) \(relative to 3\.2\.6\), and added (.*?)\.\n", text)
    assert m, "sentence not found in jgz-standards.md"

    def numbers(s: str) -> set[int]:
        out: set[int] = set()
        for a, b in re.findall(r"(\d+)(?:–(\d+))?", s):
            out |= set(range(int(a), int(b or a) + 1))
        return out

    d = C.diff("3.2.6", "4.0.2")
    assert set(d.elements_removed) == numbers(m.group(1))
    assert set(d.elements_added) == numbers(m.group(2))


def test_renames_between_versions() -> None:
    assert C.get_catalogue("4.0.2").display_name(1584) == "Vaccinatieschema DKTP"
    assert C.get_catalogue("4.2.0").display_name(1584) == "Vaccinatieschema DKTP pasgeborene"
    d = C.diff("4.0.2", "4.2.0")
    assert (1584, "Vaccinatieschema DKTP", "Vaccinatieschema DKTP pasgeborene") in d.elements_renamed
    r = C.diff("4.0.2", "4.2.0").rubrieken_renamed
    assert ("R054", "Screening psychosociale problemen", "Screeningsinstrumenten") in r


# --------------------------------------------------------------------------- facts and their sources


def test_lengte_is_mm_pq_in_r027() -> None:
    for v in ("4.1.3", "4.2.0"):
        e = C.get_catalogue(v).element(235)
        assert (e.name, e.rubriek, e.groep, e.unit, e.hl7_type, e.datatype) == \
            ("Lengte", "R027", None, "mm", "PQ", "quantity")
        assert e.template_id == "2.16.840.1.113883.2.4.6.10.100.40235"
        assert e.bindings["methodCode"] == "W0253"
    assert C.get_catalogue("4.1.3").element(235).source("unit") == "4.1.3"
    assert C.get_catalogue("4.1.3").element(235).source("datatype") == "4.0.2"  # ADA: a fallback
    e420 = C.get_catalogue("4.2.0").element(235)
    assert e420.source("hl7_type") == "4.1.3" and "hl7_type" in e420.fallbacks and "name" not in e420.fallbacks
    e402 = C.get_catalogue("4.0.2").element(235)
    assert (e402.unit, e402.rubriek, e402.cardinality, e402.hl7_type) == ("mm", "R027", (0, 1), None)
    assert "hl7_type" not in e402.sources  # unknown, not copied from a later version


def test_326_claims_nothing_beyond_its_lists() -> None:
    cat = C.get_catalogue("3.2.6")
    assert all(set(e.sources) == {"name", "status"} for e in cat.elements())
    assert cat.element(235).rubriek is None and cat.element(235).unit is None
    assert cat.valueset("W0023") is None
    assert cat.valueset("W0188") is not None  # published in the 3.2.7 conversion


def test_413_list_is_flagged_and_partial() -> None:
    cat = C.get_catalogue("4.1.3")
    assert not cat.complete and cat.lists["elements"] == "4.0.2"
    e = cat.element(1608)  # known from its 4.1.3 template only
    assert e.template_id.endswith(".41608") and e.rubriek == "R012" and e.groep == "G019"
    assert e.name is None and e.template_name == "Toelichting erfelijke factor in de familie"
    assert cat.element(1650) is None  # first seen in 4.2.0, no 4.1.3 evidence
    assert cat.element(1).source("name") == "4.0.2"


@needs_ref
def test_ada_tree_gives_the_40_structure() -> None:
    path = next((REF / "derived").glob("ada_dataset_*_bds-4.0.csv"))
    cat = C.get_catalogue("4.0.2")
    rows = [r for r in csv.DictReader(path.open(encoding="utf-8")) if r["kind"] == "element"]
    assert len(rows) > 800
    for r in rows:
        e = cat.element(r["bds_number"])
        hi = None if r["maxOccurs"] == "unbounded" else int(r["maxOccurs"])
        assert e.cardinality == (int(r["minOccurs"]), hi), r["path"]
        assert e.datatype == (r["ada_datatype"] or None)
        assert e.unit == (r["units"] or None)
        rub = re.search(r"/r(\d{3})_", r["path"])
        assert e.rubriek == f"R{rub.group(1)}"
        assert str(e.number) in r["conceptId"].rsplit(".", 1)[1]
    g076 = cat.groep("G76")
    assert g076.rubriek == "R041" and 461 in g076.elements and "G076" in cat.rubriek("R041").groepen


@needs_ref
def test_observation_templates_map_to_elements() -> None:
    cat = C.get_catalogue("4.1.3")
    path = REF / "derived" / "bds-4.1.3_observation_templates_datatypes_valuesets.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    checked = 0
    for r in rows:
        if len(r["bdsElementCodes"].split()) != 1:
            continue
        e = cat.element_by_template(r["templateId"])
        assert e is not None and e.number == int(r["bdsElementCodes"]), r["templateId"]
        if r["valueTypes"]:
            assert e.hl7_type == r["valueTypes"]
        assert e.unit == (r["units"] or None) or e.unit is None and not r["units"]
        for binding in filter(None, r["valueSetBindings"].split(";")):
            attr, _, vs = binding.partition("=")
            w = vs.split()[1].split("_")[0]
            assert any(path.rsplit("/", 1)[-1] == attr and b == w for path, b in e.bindings.items()), (e, attr)
        checked += 1
    assert checked >= 560
    assert cat.rubriek_by_template("2.16.840.1.113883.2.4.6.10.100.11027").code == "R027"
    assert cat.rubriek("R027").template_id.endswith(".11027")


# --------------------------------------------------------------------------- value sets


@needs_ref
def test_w0023_in_both_flavours() -> None:
    vs = C.get_catalogue("4.1.3").valueset("W0023")
    assert not vs.fallback and vs.name == "Geslacht"
    assert vs.bds_oid == VS + "1.23" and vs.hl7_oid == VS + "2.23"
    assert vs.bds_code_system == "2.16.840.1.113883.2.4.3.11.60.100.12.23"
    pairs = [(c.bds.code, c.hl7.code) for c in vs.concepts]
    assert pairs == [("1", "M"), ("2", "F"), ("3", "UN"), ("0", "UNK")]
    assert vs.bds_to_hl7("2").code == "F"
    assert vs.hl7_to_bds("M", "2.16.840.1.113883.5.1").display == "Mannelijk"
    assert vs.contains_bds("3") and not vs.contains_bds("M")
    assert vs.contains_hl7("UN", "2.16.840.1.113883.5.1") and not vs.contains_hl7("UN", "2.16.1")
    assert vs.null_flavors == {"UNK"} and vs.hl7_concept("UNK", C.NULL_FLAVOR_CS).hl7.exception


@needs_ref
def test_every_w_domain_concept_of_the_413_publication_is_shipped() -> None:
    cat = C.get_catalogue("4.1.3")
    latest: dict[str, etree._Element] = {}
    n = 0
    for vs in voc_files():
        oid, eff = vs.get("id"), vs.get("effectiveDate")
        entries = [(c.get("code"), c.get("codeSystem"), c.get("displayName"), c.get("type") == "D",
                    c.tag == "exception") for c in vs.iterfind("conceptList/*") if c.tag in ("concept", "exception")]
        shipped = C.codelist(oid, eff)
        assert shipped is not None, (oid, eff)
        assert [(c.code, c.code_system, c.display, c.deprecated, c.exception) for c in shipped.codes] == entries
        n += len(entries)
        m = re.fullmatch(re.escape(VS) + r"[12]\.(\d+)", oid)
        if m and vs.get("name").startswith("W") and eff >= latest.get(oid, vs).get("effectiveDate"):
            latest[oid] = vs
    assert n > 8000
    for oid, vs in latest.items():
        w = f"W{int(oid.rsplit('.', 1)[1]):04d}"
        if w in ("W0639", "W0646", "W0647"):
            continue  # element/group/rubriek lists, checked against their own version lists
        flavour = "bds" if oid.startswith(VS + "1.") else "hl7"
        domain = cat.valueset(w)
        side = [getattr(c, flavour) for c in domain.concepts if getattr(c, flavour)]
        assert sorted((c.code, c.code_system) for c in side) == sorted(
            (c.get("code"), c.get("codeSystem")) for c in vs.iterfind("conceptList/*")
            if c.tag in ("concept", "exception")), w


def test_pairing_never_crosses_codes() -> None:
    """A position-aligned pair never matches a code with a different code the other side also has."""
    cat = C.get_catalogue("4.1.3")
    for w in cat.valuesets():
        vs = cat.valueset(w)
        if vs.bds is None or vs.hl7 is None:
            continue
        hl7_codes = {c.code for c in vs.hl7.codes}
        for c in vs.concepts:
            if c.bds and c.hl7:
                assert c.bds.code == c.hl7.code or c.bds.code not in hl7_codes, (w, c)
            if vs.pairing == "code" and c.bds:
                assert c.hl7 and c.hl7.code == c.bds.code


def test_value_set_versions() -> None:
    w413 = C.get_catalogue("4.1.3").valueset("W0422")
    w420 = C.get_catalogue("4.2.0").valueset("W0422")
    assert not w413.fallback and w420.fallback and w420.source_version == "4.1.3"
    assert w420.contains_hl7("30", "2.16.840.1.113883.2.4.4.40.76")  # MatGriep
    # The 4.0 ADA list has no MatGriep (added in 4.0.2), so 4.0.2's W0422 is unknown, not guessed.
    assert C.get_catalogue("4.0.2").valueset("W0422") is None
    w402 = C.get_catalogue("4.0.2").valueset("W0002")
    assert [(c.bds.code, c.hl7.code) for c in w402.concepts] == [("01", "active"), ("02", "completed")]
    assert C.get_catalogue("4.2.0").valueset("W0647").hl7.contains("1690", C.ELEMENT_CS)
    old = C.codelist(VS + "2.681", "2019-07-16T000000")
    assert old.codes[0].display == "DKTP: 3-5-11 maanden"
    assert C.codelist(VS + "2.681").codes[0].display == "2+1 schema"


def test_diff_says_what_it_does_not_know() -> None:
    d = C.diff("4.1.3", "4.2.0")
    assert any("4.1.3 has no published elements list" in n for n in d.notes)
    assert any("4.2.0 value sets are not published" in n for n in d.notes)
    assert "G119" in d.groepen_added
    assert C.diff("3.2.6", "4.0.2").valuesets_unknown  # 3.2.6 has almost no value sets


# --------------------------------------------------------------------------- shipped data


def test_provenance_names_sources_commits_and_licences() -> None:
    text = (MAIN / "jgz_gateway" / "standards" / "data" / "bds" / "PROVENANCE").read_text(encoding="utf-8")
    for needle in ("Nictiz/HL7-mappings", "7b054d26e02744427dd90e90fa96eaf1e549ebd8",
                   "0eb2a71244023180e9491520b80d6662efc89370", "22162ad726a1790c539a8fe5d7efe01c90ffa275",
                   "LGPL", "3.2.7", "template-constraints.csv"):
        assert needle in text
    assert "shared" not in Path(C.__file__).read_text(encoding="utf-8")


@needs_ref
def test_shipped_data_is_what_the_importer_builds(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("import_bds", MAIN / "tools" / "import_bds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--ref", str(REF), "--out", str(tmp_path)]) == 0
    shipped = MAIN / "jgz_gateway" / "standards" / "data" / "bds"
    for f in tmp_path.iterdir():
        assert f.read_bytes() == (shipped / f.name).read_bytes(), f"{f.name} is stale: rerun tools/import_bds.py"


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_element_json() -> None:
    res = runner.invoke(app, ["bds", "element", "235", "--bds", "4.2.0", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["name"], data["unit"], data["hl7_type"], data["rubriek"]) == ("Lengte", "mm", "PQ", "R027")
    assert "hl7_type" in data["fallbacks"]


def test_cli_element_text_shows_value_set_codes() -> None:
    res = runner.invoke(app, ["bds", "element", "19", "--bds", "4.0"])
    assert res.exit_code == 0, res.output
    assert "Geslacht" in res.stdout and "Mannelijk" in res.stdout and "UNK" in res.stdout


@pytest.mark.parametrize("args", [
    ["bds", "element", "99999"], ["bds", "element", "x"], ["bds", "element", "235", "--bds", "5.0"],
    ["bds", "rubriek", "R001"], ["bds", "groep", "G999"], ["bds", "valueset", "W9999"],
    ["bds", "diff", "4.1.3", "9"],
])
def test_cli_unknown_exits_2_with_one_line(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert res.exception is None or isinstance(res.exception, SystemExit)
    err = res.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in res.output


@pytest.mark.parametrize("args,key", [
    (["bds", "rubriek", "R041"], "groepen"), (["bds", "groep", "G076"], "elements"),
    (["bds", "valueset", "W0422", "--bds", "4.1"], "concepts"), (["bds", "diff", "4.1.3", "4.2.0"], "elements_added"),
])
def test_cli_json_commands(args: list[str], key: str) -> None:
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[key]


def test_cli_text_commands() -> None:
    for args, needle in ((["bds", "rubriek", "R027"], "Lengte"), (["bds", "groep", "G076"], "Soort vaccinatie"),
                         (["bds", "valueset", "W0422"], "MatGriep"), (["bds", "diff", "3.2", "4.0"], "1569")):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and needle in res.stdout, (args, res.output)
