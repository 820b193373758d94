"""HL7 TS values as Python dates: the two small conversions every reader and builder needs."""

from __future__ import annotations

import datetime as dt
from typing import Any


def parse_ts(value: str | None) -> dt.date | dt.datetime | str | None:
    """HL7 TS → date (8 digits) or datetime (12+ digits); anything else stays as written."""
    if not value:
        return None
    digits = value.split("+")[0].split("-")[0].split(".")[0]
    try:
        if len(digits) == 8:
            return dt.datetime.strptime(digits, "%Y%m%d").date()
        if len(digits) >= 12:
            return dt.datetime.strptime(digits[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        pass
    return value


def format_ts(value: Any) -> str:
    """A date as ``YYYYMMDD``, a datetime as ``YYYYMMDDHHMMSS``; TypeError for anything else."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    raise TypeError(f"not a date: {value!r}")
