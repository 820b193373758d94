"""One vendor value ↔ one BDS value: codes through value maps, units, dates, booleans.

A :class:`Field` is one line of a mapping file, already checked against the catalogue.
``parse`` turns what a vendor wrote (a CSV string, or a JSON number, string or boolean)
into the record's typed value; ``render`` does the reverse, always in one canonical
spelling, so writing what was read gives the same text back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

#: Vendor unit → (BDS unit, factor): BDS value = vendor value × factor.
UNITS: dict[str, tuple[str, Decimal]] = {
    "mm": ("mm", Decimal(1)), "cm": ("mm", Decimal(10)), "dm": ("mm", Decimal(100)), "m": ("mm", Decimal(1000)),
    "g": ("g", Decimal(1)), "kg": ("g", Decimal(1000)),
    "mm[Hg]": ("mm[Hg]", Decimal(1)),  # blood pressure (1486, 1487)
    # durations and ages, in the element's own unit (149 days in hospital, 929 weeks, 988 months)
    "min": ("min", Decimal(1)), "d": ("d", Decimal(1)), "wk": ("wk", Decimal(1)), "mo": ("mo", Decimal(1)),
}


class ValueProblem(ValueError):
    """A vendor value that does not fit its field; the caller adds file, line and field."""


#: What XML 1.0 cannot carry (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Field:
    """How one vendor field maps onto one BDS element."""

    name: str  # column, or dotted path inside a JSON object
    element: int
    kind: str  # code | string | bool | date | quantity | count
    values: dict[str, str] | None = None  # vendor value → BDS code
    reverse: dict[str, str] | None = None  # BDS code → vendor value (first listed wins)
    unit: str | None = None  # vendor unit, converted to the element's BDS unit
    factor: Decimal = Decimal(1)
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%dT%H:%M:%S"
    true: tuple[str, ...] = ("true",)
    false: tuple[str, ...] = ("false",)
    decimal: str = "."
    native: bool = False  # JSON: numbers and booleans are native values
    other: str | None = None  # the field with the text of an "other" value (an exception code)
    many: str | None = None  # holds every value of a repeatable element: CSV joins them with this, JSON in a list

    # --- vendor → BDS ---------------------------------------------------------------------

    def parse(self, raw: Any) -> Any:
        """The record value of a non-empty vendor value, or raise :class:`ValueProblem`."""
        if isinstance(raw, str):
            bad = _NOT_XML.search(raw)
            if bad:
                raise ValueProblem(f"contains U+{ord(bad.group()):04X} at position {bad.start() + 1}, "
                                   "a character no DOB (XML) can carry")
        k = self.kind
        if k == "code":
            text = _text(raw)
            if self.values is not None:
                if text not in self.values:
                    known = ", ".join(sorted(self.values)[:12])
                    raise ValueProblem(f"{text!r} is not a known value (expected one of: {known})")
                return self.values[text]
            return text
        if k == "string":
            return _text(raw)
        if k == "bool":
            if isinstance(raw, bool):
                return raw
            text = _text(raw)
            if text in self.true:
                return True
            if text in self.false:
                return False
            raise ValueProblem(f"{text!r} is not a yes/no value (expected {self.true[0]!r} or {self.false[0]!r})")
        if k == "date":
            if isinstance(raw, (dt.date, dt.datetime)):
                return raw
            text = _text(raw)
            for fmt, make in ((self.date_format, lambda d: d.date()), (self.datetime_format, lambda d: d)):
                try:
                    return make(dt.datetime.strptime(text, fmt))
                except ValueError:
                    continue
            example = dt.date(2020, 12, 31).strftime(self.date_format)
            raise ValueProblem(f"{text!r} is not a date in the format {self.date_format!r} (e.g. {example})")
        if k == "quantity":
            number = self._number(raw)
            return number * self.factor
        if k == "count":
            if isinstance(raw, bool):
                raise ValueProblem(f"{raw!r} is not a whole number")
            if isinstance(raw, int):
                return raw
            if isinstance(raw, float) and raw.is_integer():  # JSON: 174.0 is the number 174
                return int(raw)
            text = _text(raw)
            if not text.lstrip("-").isdecimal():
                raise ValueProblem(f"{text!r} is not a whole number")
            return int(text)
        raise ValueProblem(f"unsupported kind {k}")

    def _number(self, raw: Any) -> Decimal:
        if isinstance(raw, bool):
            raise ValueProblem(f"{raw!r} is not a number")
        if isinstance(raw, (int, float)):
            number = Decimal(str(raw))
        else:
            text = _text(raw)
            if self.decimal != "." and "." in text:
                raise ValueProblem(f"{text!r} is not a number (the decimal separator is {self.decimal!r})")
            try:
                number = Decimal(text.replace(self.decimal, "."))
            except InvalidOperation:
                raise ValueProblem(f"{text!r} is not a number") from None
        if not number.is_finite():  # Decimal reads 'NaN' and 'Infinity'; no BDS value is either
            raise ValueProblem(f"{raw!r} is not a number")
        return number

    # --- BDS → vendor ---------------------------------------------------------------------

    def render(self, value: Any) -> Any:
        """The vendor spelling of a record value (CSV: text; JSON: native where natural)."""
        k = self.kind
        if k == "code":
            text = str(value)
            if self.reverse is not None:
                if text not in self.reverse:
                    raise ValueProblem(f"BDS code {text!r} has no vendor value in this mapping")
                return self.reverse[text]
            return text
        if k == "bool":
            if not isinstance(value, bool):
                raise ValueProblem(f"{value!r} is not a yes/no value")
            return value if self.native else (self.true[0] if value else self.false[0])
        if k == "date":
            if isinstance(value, dt.datetime):
                return value.strftime(self.datetime_format)
            if isinstance(value, dt.date):
                return value.strftime(self.date_format)
            return str(value)
        if k == "quantity":
            if not isinstance(value, (Decimal, int)):
                raise ValueProblem(f"{value!r} is not a number")
            number = Decimal(value) / self.factor
            if self.native:
                return int(number) if number == number.to_integral_value() else float(number)
            text = format(number.normalize(), "f")
            return text.replace(".", self.decimal)
        if k == "count":
            return value if self.native else str(value)
        return str(value)


def _text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else str(raw)
