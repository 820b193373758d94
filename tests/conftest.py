"""Shared fixtures: the Nictiz reference artefacts in ../shared/reference (tests may read them)."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def reference_messages() -> list[Path]:
    """Every published HL7 DOB message (the ``*-qual-templates`` folder excepted)."""
    examples = REFERENCE / "hl7v3" / "examples"
    files = [
        p
        for folder in sorted(examples.iterdir())
        if folder.is_dir() and not folder.name.endswith("-qual-templates")
        for p in sorted(folder.glob("*.xml"))
    ]
    files += sorted((REFERENCE / "ada" / "hl7").glob("*.xml"))
    return files


def load_tool(name: str):
    """A script of ``tools/`` as a module (the tools are scripts, not a package); the tools
    that import each other find their siblings under their own names."""
    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def ref_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.exists():
        pytest.skip(f"reference artefacts not found at {REFERENCE}")
    return REFERENCE


def misplace_observation(root, where: str) -> str:
    """Put the 12th element observation of a message where no schema allows it: into a child
    (``value``, ``code``, ``templateId``) of the 11th, or ``text`` into its own code. Returns
    its BDS element number."""
    hl7 = "{urn:hl7-org:v3}"
    observations = [o for o in root.iter(hl7 + "observation") if any(
        t.get("root", "").startswith("2.16.840.1.113883.2.4.6.10.100.4") for t in o.iterchildren(hl7 + "templateId"))]
    host, moved = observations[10:12]
    if where == "text":
        moved.find(hl7 + "code").text = "text where none belongs"
    else:
        moved.getparent().getparent().remove(moved.getparent())
        host.find(hl7 + where).append(moved)
    return moved.find(hl7 + "code").get("code")


def second_encounter(root) -> None:
    """Repeat the first encounter inside its component7, where the schema allows one."""
    encounter = root.find(".//{urn:hl7-org:v3}component7/{urn:hl7-org:v3}encounter")
    encounter.addnext(copy.deepcopy(encounter))
