"""Relative dates in ADA test instances: ``T``, ``T-16Y``, ``DOB+3M5D``, ``T-1D{10:30:00}``.

``T`` is the reference date (the caller's "today"), ``DOB`` the child's birth date
(itself possibly relative). Years and months are added as XPath ``xs:yearMonthDuration``
does: the day is clamped to the end of a shorter month (31 January + 1M = 28/29 February).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

#: ADA's RelativeDate(Time): a base, a sign with up to three whole amounts of Y, M or D (in
#: any order), and a time in braces.
_RELATIVE = re.compile(
    r"^(?P<base>T|DOB)(?:(?P<sign>[+-])(?P<amounts>(?:\d+[YMD]){1,3}))?"
    r"(?:\{(?P<time>\d{2}:\d{2}(?::\d{2})?)\})?$"
)
_AMOUNT = re.compile(r"(\d+)([YMD])")
#: xs:date, xs:dateTime and ADA's vague forms (2021, 2021-05, 2021-05-06T10): the parts, a
#: fraction of a second and a zone (Z or ±hh:mm).
_ABSOLUTE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?)?)?"
                       r"(Z|[+-]\d{2}:\d{2})?$")
#: HL7 TS: YYYY[MM[DD[HH[MM[SS[.U+]]]]]][+|-ZZzz]
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d+)?([+-]\d{4})?$")


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
        amount = {"Y": 0, "M": 0, "D": 0}
        for number, unit in _AMOUNT.findall(m.group("amounts") or ""):
            amount[unit] += int(number)
        day = add_months(base, sign * (amount["Y"] * 12 + amount["M"]))
        day = date.fromordinal(day.toordinal() + sign * amount["D"])
        stamp = day.strftime("%Y%m%d")
        if m.group("time"):
            stamp += m.group("time").replace(":", "").ljust(6, "0")
        return stamp
    m = _ABSOLUTE.match(text)
    if m:
        *parts, zone = m.groups()
        stamp = "".join(p for p in parts if p)
        if parts[3] and not parts[4]:
            stamp += "00"  # 2021-05-06T10: an HL7 TS gives hours with minutes
        if zone:
            stamp += "+0000" if zone == "Z" else zone.replace(":", "")
        return stamp
    raise DateError(f"{value!r} is neither a date nor a relative ADA date (T, T-1D, DOB+3M...)")


def as_date(ts: str) -> date:
    return datetime.strptime(ts[:8], "%Y%m%d").date()


def iso(ts: str) -> str:
    """HL7 TS → the ISO form ADA instances use for absolute dates (xs:date, xs:dateTime, or
    a year or year-month), keeping a fraction of a second and the zone."""
    m = _TS.match(ts.strip())
    if not m:
        return ts
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    zone = f"{zone[:3]}:{zone[3:]}" if zone else ""
    if hour:
        return f"{year}-{month}-{day}T{hour}:{minute or '00'}:{second or '00'}{fraction if second and fraction else ''}{zone}"
    if day:
        return f"{year}-{month}-{day}{zone}"
    return f"{year}-{month}" if month else year
