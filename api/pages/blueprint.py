"""The pages' blueprint (``/ui``): its templates, its static files, and the form helpers every page uses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

bp = Blueprint("pages", __name__, url_prefix="/ui", template_folder="templates", static_folder="static", static_url_path="/static")

#: rows per page of a list (the API's page size is the ceiling)
PAGE_ROWS = 50


def form_value(name: str) -> str | None:
    """A form field, stripped; None when empty."""
    value = request.form.get(name, "").strip()
    return value or None


def form_record(names: tuple[str, ...], numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The non-empty fields of a form as a JSON record for the API: ``numbers`` as numbers where they
    parse (else as typed, so that the API names the field and the problem)."""
    record: dict[str, Any] = {}
    for name in names:
        value = form_value(name)
        if value is None:
            continue
        if name in numbers:
            try:
                number = float(value)
                record[name] = int(number) if number.is_integer() and "." not in value else number
            except ValueError:
                record[name] = value
        else:
            record[name] = value
    return record


__all__ = ["PAGE_ROWS", "bp", "form_record", "form_value"]
