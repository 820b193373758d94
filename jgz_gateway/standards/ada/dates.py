"""Relative dates in ADA test instances: ``T``, ``T-16Y``, ``DOB+3M5D``, ``T-1D{10:30:00}``.

``T`` is the reference date (the caller's "today"), ``DOB`` the child's birth date
(itself possibly relative). Years and months are added as XPath ``xs:yearMonthDuration``
does: the day is clamped to the end of a shorter month (31 January + 1M = 28/29 February).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

_RELATIVE = re.compile(
    r"^(?P<base>T|DOB)(?:(?P<sign>[+-])(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<d>\d+)D)?)?"
    r"(?:\{(?P<time>\d{2}:\d{2}(?::\d{2})?)\})?$"
)
_ABSOLUTE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?)?)?")


class DateError(ValueError):
    pass


def is_relative(value: str | None) -> bool:
    return bool(value) and _RELATIVE.match(value.strip()) is not None


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def resolve(value: str, today: date, birth: date | None) -> str:
    """A relative or ISO ADA date as an HL7 TS (``YYYYMMDD`` or ``YYYYMMDDHHMMSS``)."""
    text = value.strip()
    m = _RELATIVE.match(text)
    if m:
        if m.group("base") == "DOB":
            if birth is None:
                raise DateError(f"{value!r} is relative to the birth date (DOB), which the instance lacks")
            base = birth
        else:
            base = today
        sign = -1 if m.group("sign") == "-" else 1
        months = int(m.group("y") or 0) * 12 + int(m.group("m") or 0)
        day = add_months(base, sign * months)
        day = date.fromordinal(day.toordinal() + sign * int(m.group("d") or 0))
        stamp = day.strftime("%Y%m%d")
        if m.group("time"):
            stamp += m.group("time").replace(":", "").ljust(6, "0")
        return stamp
    m = _ABSOLUTE.match(text)
    if m:
        return "".join(p for p in m.groups() if p)
    raise DateError(f"{value!r} is neither a date nor a relative ADA date (T, T-1D, DOB+3M...)")


def as_date(ts: str) -> date:
    return datetime.strptime(ts[:8], "%Y%m%d").date()


def iso(ts: str) -> str:
    """HL7 TS → the ISO form ADA instances use for absolute dates."""
    if len(ts) >= 12:
        base = f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14] or '00'}"
        return base
    if len(ts) == 8:
        return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}"
    if len(ts) == 6:
        return f"{ts[:4]}-{ts[4:6]}"
    return ts
