"""Line numbers for the keys of a TOML file, so mapping errors can say where.

``tomllib`` gives values, not positions. Mapping files are written one entry per line
(tables as ``[headers]``, entries as ``key = value`` with inline tables), so a small
scan of headers and ``key =`` lines finds every entry a check can complain about.
"""

from __future__ import annotations

import re

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*")
_PART = re.compile(_KEY)


def _parts(dotted: str) -> tuple[str, ...]:
    out = []
    for p in _PART.findall(dotted):
        if p[0] in "\"'":
            p = p[1:-1]
        out.append(p)
    return tuple(out)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each table header and key (as a path of names) to its 1-based line number.

    Array-of-tables headers get an index: ``[[x]]`` twice gives ("x", "0") and ("x", "1").
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    arrays: dict[tuple[str, ...], int] = {}
    in_string = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if in_string:
            if in_string in line:
                in_string = None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            path = _parts(stripped[2:stripped.index("]]")])
            index = arrays.get(path, -1) + 1
            arrays[path] = index
            table = path + (str(index),)
            lines.setdefault(path, number)
            lines[table] = number
            continue
        if stripped.startswith("["):
            table = _parts(stripped[1:stripped.index("]")])
            lines[table] = number
            continue
        m = _DOTTED.match(line)
        if m and line[m.end():m.end() + 1] == "=":
            path = table + _parts(m.group(1))
            lines.setdefault(path, number)
            rest = line[m.end() + 1:]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_string = quote
    return lines


def line_of(lines: dict[tuple[str, ...], int], *path: str) -> int | None:
    """The line of ``path``, or of its nearest enclosing key or table."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None
