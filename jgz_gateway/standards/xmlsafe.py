"""Hardened XML parsing for every path that reads XML from outside.

No DTD, no entities, no network, no XInclude, bounded size and depth. A hostile or
malformed document is refused with a :class:`XmlRejected` that says what and where;
the caller turns it into a finding or an error message, never a traceback.
"""

from __future__ import annotations

import re

from lxml import etree

HL7_NS = "urn:hl7-org:v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")

#: Largest message accepted (bytes). The largest published DOB is about 0.5 MB;
#: a dossier with many PDF attachments can be a few MB.
MAX_BYTES = 50 * 1024 * 1024
#: Deepest nesting accepted. Real DOB messages nest about 20 levels.
MAX_DEPTH = 256

_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


class InputRejected(Exception):
    """Bytes from outside that are not acceptable. ``rule`` is a stable finding id; ``line`` where known."""

    def __init__(self, rule: str, message: str, line: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


class XmlRejected(InputRejected):
    """The bytes are not acceptable XML."""


def hardened_parser(huge: bool = False) -> etree.XMLParser:
    """Comments and processing instructions are dropped while parsing: they carry nothing a
    DOB means, and text around a comment (``Jan<!-- -->sen``) is then one text, as exclusive
    c14n (what a signature covers) and every XPath string value see it.

    ``huge`` lifts libxml2's limit of 10 MB per text node (a scanned dossier attached as base64
    PDF passes it), and with it its nesting limit of 256, which :func:`parse_bytes` then checks
    itself; entities stay off and the document's size is capped before parsing."""
    return etree.XMLParser(
        remove_comments=True,
        remove_pis=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_bytes(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> etree._ElementTree:
    """Parse untrusted XML bytes into a tree, or raise :class:`XmlRejected`."""
    if len(data) > max_bytes:
        raise XmlRejected("JGZ-XML-SIZE", f"document is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    # ENTITY declarations live only inside a DOCTYPE; a DOCTYPE in another encoding (UTF-16)
    # escapes these byte scans but not the docinfo check after parsing.
    if _DOCTYPE.search(data, 0, min(len(data), 4096)) or b"<!DOCTYPE" in data:
        raise XmlRejected("JGZ-XML-DTD", "document type declarations (DOCTYPE/ENTITY) are not allowed")
    huge = False
    while True:
        try:
            root = etree.fromstring(data, hardened_parser(huge))
            break
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno else None
            msg = str(exc.msg or exc).strip()
            if "Excessive depth" in msg or "depth" in msg.lower() and "exceed" in msg.lower():
                raise XmlRejected("JGZ-XML-DEPTH", f"nesting too deep: {msg}", line) from None
            if "too long" in msg and not huge:  # a text or attribute value over 10 MB: read it whole
                huge = True
                continue
            raise XmlRejected("JGZ-XML-SYNTAX", f"not well-formed XML: {msg}", line) from None
        except ValueError as exc:  # e.g. unicode strings with encoding declarations
            raise XmlRejected("JGZ-XML-SYNTAX", f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise XmlRejected("JGZ-XML-DTD", "document type declarations (DOCTYPE) are not allowed")
    _check_depth_and_xinclude(root, max_depth, _may_hold_xinclude(data, tree), 2048 if huge else 256)
    return tree


def _may_hold_xinclude(data: bytes, tree: etree._ElementTree) -> bool:
    """An XInclude element needs its namespace URI spelled out in the document: in an
    ASCII-compatible encoding a byte scan rules it out faster than a search of the tree."""
    encoding = (tree.docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding in ("UTF-8", "US-ASCII", "ASCII") or encoding.startswith(("ISO-8859-", "WINDOWS-125")):
        return b"XInclude" in data
    return True


_XINCLUDE = etree.XPath(
    "//*[namespace-uri()=$a or namespace-uri()=$b][1]"
)


def _check_depth_and_xinclude(root: etree._Element, max_depth: int, xinclude: bool = True,
                              parser_depth: int = 256) -> None:
    # libxml2 itself refuses nesting deeper than ``parser_depth`` levels (256; 2048 with
    # XML_PARSE_HUGE): a tighter limit is checked here.
    found = _XINCLUDE(root, a=XINCLUDE_NS[0], b=XINCLUDE_NS[1]) if xinclude else None
    if found:
        raise XmlRejected("JGZ-XML-XINCLUDE", "XInclude elements are not allowed", found[0].sourceline)
    if max_depth < parser_depth:
        deep = root.xpath(f"count(/{'/'.join(['*'] * (max_depth + 1))})")
        if deep:
            raise XmlRejected("JGZ-XML-DEPTH", f"nesting deeper than {max_depth} levels")


def read_file(path, *, max_bytes: int = MAX_BYTES) -> bytes:
    """A file's bytes, refused (:class:`XmlRejected` JGZ-XML-SIZE) before reading when too large.

    ``OSError`` passes through: a missing or unreadable file is the caller's to report.
    """
    import os

    size = os.path.getsize(path)
    if size > max_bytes:
        raise XmlRejected("JGZ-XML-SIZE", f"document is {size:,} bytes; the limit is {max_bytes:,} bytes")
    with open(path, "rb") as fh:
        return fh.read()


def local(el: etree._Element) -> str:
    tag = el.tag
    return tag[tag.index("}") + 1 :] if tag[0] == "{" else tag


def xpath_of(el: etree._Element) -> str:
    """A readable, usable XPath for ``el``: ``/hl7:REPC_IN902120NL03/hl7:ControlActProcess/...``.

    Positions are added only where an element has same-named siblings; the
    prefix ``hl7`` stands for ``urn:hl7-org:v3``.
    """
    parts = []
    node = el
    while node is not None:
        parent = node.getparent()
        tag = node.tag
        if not isinstance(tag, str):
            parts.append("comment()")
            node = parent
            continue
        name = local(node)
        prefix = "hl7:" if tag.startswith("{" + HL7_NS + "}") else ("" if tag[0] != "{" else "*:")
        step = prefix + name
        if parent is not None:
            same = list(parent.iterchildren(tag))
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        parts.append(step)
        node = parent
    return "/" + "/".join(reversed(parts))
