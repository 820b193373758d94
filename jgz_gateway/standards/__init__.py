"""The BDS JGZ standard: catalogue, canonical dossier model, HL7v3 messages, validation.

No I/O here beyond loading the package's own shipped data (``data/``).
"""
