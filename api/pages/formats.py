"""Numbers, money, dates and times in the reader's format (Flask-Babel, the page's locale)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import format_date, format_decimal, format_time

#: the working day the plan's minutes count from (docs/routes.md)
WORKDAY_START = dt.time(6, 0)


def num(value: Any) -> str:
    """A whole or decimal number with the locale's grouping; empty for None."""
    if value is None or value == "":
        return ""
    try:
        return str(format_decimal(Decimal(str(value))))
    except (InvalidOperation, ValueError):
        return str(value)


def money(value: Any) -> str:
    """An amount or a price (the API's decimal strings) with two decimals at least."""
    if value is None or value == "":
        return ""
    try:
        return str(format_decimal(Decimal(str(value)), format="#,##0.00##"))
    except (InvalidOperation, ValueError):
        return str(value)


def day(value: Any) -> str:
    """An ISO date (or date-time) as the locale writes a date."""
    if not value:
        return ""
    try:
        when = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return str(format_date(when, format="medium"))


def clock(minutes: Any) -> str:
    """Minutes from the start of the working day as a time of day."""
    if minutes is None or minutes == "":
        return ""
    start = dt.datetime.combine(dt.date(2000, 1, 1), WORKDAY_START) + dt.timedelta(minutes=float(minutes))
    return str(format_time(start.time(), format="short"))


def register(app: Flask) -> None:
    from api.pages.words import word

    for f in (num, money, day, clock, word):
        app.jinja_env.filters[f.__name__] = f


__all__ = ["WORKDAY_START", "clock", "day", "money", "num", "register"]
