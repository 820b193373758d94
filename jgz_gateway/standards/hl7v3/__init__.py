"""HL7v3 dossieroverdrachtbericht (DOB): REPC_IN902120NL, NL03 and NL04 in and out of the model."""

from .message import INTERACTIONS, MessageError, build_tree, read_message, write_message

__all__ = ["INTERACTIONS", "MessageError", "build_tree", "read_message", "write_message"]
