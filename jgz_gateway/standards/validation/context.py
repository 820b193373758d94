"""Where in the BDS a piece of XML sits: the element, groep or rubriek it belongs to."""

from __future__ import annotations

from lxml import etree

from ..model import OID_BDS_ELEMENT, OID_BDS_GROEP, OID_BDS_RUBRIEK
from ..xmlsafe import HL7_NS

_CODE = f"{{{HL7_NS}}}code"
_BDS_SYSTEMS = (OID_BDS_ELEMENT, OID_BDS_GROEP, OID_BDS_RUBRIEK)


def bds_element_of(el: etree._Element | None) -> str | None:
    """The nearest BDS code (element number, ``G…`` or ``R…``) at or above ``el``.

    An element's own ``code`` in the BDS code systems names it; otherwise its
    ancestors are tried, so a bad ``value`` points at its observation's element.
    """
    while el is not None:
        if isinstance(el.tag, str):
            code = el if el.tag == _CODE else el.find(_CODE)
            if code is not None and code.get("codeSystem") in _BDS_SYSTEMS and code.get("code"):
                return code.get("code")
        el = el.getparent()
    return None
