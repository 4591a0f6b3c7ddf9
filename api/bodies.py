"""Request bodies that are one JSON object, checked by one pydantic model each.

A body model derives from :class:`Body`: unknown fields are refused (the first
:data:`~harvestmatch.errors.MAX_LISTED` named, the rest counted), a missing
field reaches its validator as :data:`MISSING` (so that its message can say so), and every problem
becomes one ``{"path": field, "message": ...}`` entry of one 422 ``Invalid request body`` (:mod:`api.errors` turns the
:class:`pydantic.ValidationError` into problem details): unknown fields first, then the fields in the
model's order. Tables of records (offers, orders, products) go through :mod:`matcher.schemas` instead,
the contract they share with ``harvest match``'s files.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar, Self

from flask import request
from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.errors import ApiError
from api.requests import json_body
from harvestmatch.errors import MAX_LISTED


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: what a field validator gets for a field the body does not have
MISSING: Any = _Missing()


class Body(BaseModel):
    """A JSON object body; its fields validate themselves with :func:`check` (``mode="before"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: the fields as a refusal of an unknown one lists them (empty: in the model's order)
    ALLOWED: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _whole(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if not isinstance(data, dict):
            return handler(data)
        fields = tuple(cls.model_fields)
        names = [name for name in data if name not in fields]
        unknown: list[InitErrorDetails] = [
            {"type": invalid(f"unknown field {shown(name)} (allowed: {', '.join(cls.ALLOWED or fields)})"), "loc": (escaped(name),), "input": data[name]}
            for name in names[:MAX_LISTED]
        ]
        if len(names) > MAX_LISTED:  # a body of a million unknown keys gets ten lines, not a million
            unknown.append({"type": invalid(f"... and {len(names) - MAX_LISTED} more unknown fields"), "loc": (), "input": None})
        try:
            body = handler({name: data.get(name, MISSING) for name in fields})
        except ValidationError as exc:
            known: list[InitErrorDetails] = [{"type": invalid(e["msg"]), "loc": e["loc"], "input": e["input"]} for e in exc.errors()]
            raise ValidationError.from_exception_data(cls.__name__, [*unknown, *known]) from None
        if unknown:
            raise ValidationError.from_exception_data(cls.__name__, unknown)
        return body


def json_object(example: str) -> dict[str, Any]:
    """The request's body as a JSON object, for a :class:`Body` model to check: 415 unless JSON, 400
    for malformed JSON, 422 for duplicate keys or a body that is not an object (naming ``example``)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "Unsupported Media Type", "send application/json")
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(422, "Invalid request body", f"expected an object such as {example}")
    return data


def invalid(message: str) -> PydanticCustomError:
    """A field's problem, its message as given (never read as a template)."""
    return PydanticCustomError("invalid_field", "{message}", {"message": message})


def got(value: Any) -> str:
    """What a message says a field held."""
    return "nothing (the field is missing)" if value is MISSING else shown(value)


def shown(value: Any) -> str:
    """A JSON value as a message shows it: at most 80 characters (and its escapes)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 80 else text[:77] + "..."
    return escaped(text)


def escaped(text: str) -> str:
    """The text with its lone surrogates written as escapes (``\\ud800``): valid JSON holds them, but
    no message or path can carry them."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if lone_surrogate(text) else text


def plain_text(value: Any, most: int) -> bool:
    """Whether ``value`` is a text of 1 to ``most`` characters, not blank, without NUL or lone surrogates."""
    return isinstance(value, str) and bool(value.strip()) and len(value) <= most and "\x00" not in value and not lone_surrogate(value)


def lone_surrogate(text: str) -> bool:
    """Whether the text holds a lone surrogate (valid JSON, but no text a database can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
