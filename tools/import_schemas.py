"""Copy the Nictiz HL7v3 schemas into the package (developer tool, not run at run time).

Usage: python tools/import_schemas.py [../shared/reference]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "jgz_gateway" / "standards" / "data" / "schemas"

PROVENANCE = """HL7v3 XML schemas for the JGZ interactions (DOB REPC_IN902120NL / NL03, MCCI_IN000002 ack,
RVP and heel-prick interactions, CMETs, wrappers), HL7v3 core datatypes (with the HL7 NL
extensions) and vocabulary.

source:     https://github.com/Nictiz/HL7-mappings
paths:      ada_2_hl7/jgz/7.1/hl7v3_schemas/  -> hl7v3_schemas/
            ada_2_hl7/jgz/7.1/coreschemas/    -> coreschemas/
            ada_2_hl7/jgz/7.1/vocab/          -> vocab/
commit:     7b054d26e02744427dd90e90fa96eaf1e549ebd8
licence:    the repository has no licence file; these are public Nictiz artefacts (HL7v3
            schemas derived from HL7 International normative editions). Redistributed
            unchanged, as the reference collection does (see its README).
copied by:  tools/import_schemas.py

REPC_IN902120NL04.xsd (BDS 4.2.0) is not public and therefore not here; see
jgz_gateway/standards/validation/structure.py for how NL04 is checked structurally.
"""


def main(reference: Path) -> None:
    src = reference / "hl7v3" / "schemas"
    if DEST.exists():
        shutil.rmtree(DEST)
    for sub in ("hl7v3_schemas", "coreschemas", "vocab"):
        shutil.copytree(src / sub, DEST / sub)
    (DEST / "PROVENANCE").write_text(PROVENANCE, encoding="utf-8")
    print(f"copied schemas to {DEST}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference")
