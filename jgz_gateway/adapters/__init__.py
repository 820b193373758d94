"""Vendor adapters: every format in and out of the canonical Dossier, and bulk migration.

    base          the adapter protocol (describe, coverage, read, write; bulk: units, load, writer)
    registry      adapters installed through the entry-point group ``jgz_gateway.adapters``
    mapping       declarative TOML mappings, checked against the BDS catalogue when loaded
    rows          vendor rows ↔ BDS facts, following a mapping
    record        BDS facts: element numbers and values, the shape mappings speak
    to_dossier    BDS facts → Dossier (the published DOB shapes); from_dossier: and back
    hl7v3, csv_export, json_export, ada, fhir    the shipped adapters (one module each)
    synth         synthetic dossiers; synth_export writes them in any shipped format
    migrate       resumable bulk migration with worker processes

Nothing here is imported by ``import jgz_gateway.adapters``: the command line stays fast.
"""
