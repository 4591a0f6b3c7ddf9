"""Settings that validate themselves: one place for every parameter's default, limits and help.

A settings class is a frozen dataclass whose fields are made by :func:`setting`; the field carries its
:class:`Spec` (kind, limits, choices, help) in its metadata. From that one declaration come

- the check on creation (:func:`check`, called from ``__post_init__``), with one message format for
  every setting of every class: ``NAME must be a finite number from 0 to 1, got 1.5``;
- the command line options (:func:`add_options`: type, choices, help with the default);
- the JSON Schema of each field (:func:`json_schema`), which the service's OpenAPI document publishes;
- the TOML tables and the service's configuration keys (:mod:`api.settings` reads the same fields).

So a default or a limit is written once, where the class declares it, and every reader agrees.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, Literal

from harvestmatch.errors import ParameterError

Kind = Literal["number", "whole", "flag", "choice", "address"]


@dataclass(frozen=True)
class Spec:
    """What one setting may hold.

    Attributes
    ----------
    kind
        ``number`` (a finite float), ``whole`` (an int), ``flag`` (a bool), ``choice`` (one of
        ``choices``) or ``address`` (a non-blank string such as ``tcp://HOST:8786``).
    low, high
        Inclusive bounds of a number or whole number (``None``: unbounded on that side).
    above
        ``low`` itself is refused (the value must be above it).
    choices
        The allowed values of a ``choice``.
    optional
        ``None`` is allowed (unset: the reader decides, as the help says).
    help
        What it does, for ``--help`` and the API document; the default is added to it.
    meaning
        A few words after the bound in messages, e.g. ``a share of an offer's kg``.
    shown_default
        How ``--help`` shows the default, when the value alone says too little (``the cores available``).
    """

    kind: Kind
    help: str
    low: float | None = None
    high: float | None = None
    above: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    meaning: str = ""
    shown_default: str | None = None

    def bound(self) -> str:
        """The range: ``from 0 to 1``, ``>= 1``, ``> 0``, ``> 0 and <= 1``, ``<= 5``."""
        low = _num(self.low) if self.low is not None else ""
        high = _num(self.high) if self.high is not None else ""
        if self.low is not None and self.high is not None:
            return f"> {low} and <= {high}" if self.above else f"from {low} to {high}"
        if self.low is not None:
            return f"> {low}" if self.above else f">= {low}"
        if self.high is not None:
            return f"<= {high}"
        return ""

    def expected(self) -> str:
        """What a message says the setting must be."""
        if self.kind == "flag":
            what = "true or false"
        elif self.kind == "choice":
            what = "one of " + ", ".join(self.choices)
        elif self.kind == "address":
            what = "an address such as tcp://HOST:8786"
        else:
            what = ("a finite number" if self.kind == "number" else "a whole number") + (f" {self.bound()}" if self.bound() else "")
        if self.meaning:
            what += f" ({self.meaning})"
        return what + (", or unset" if self.optional else "")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or ``None`` when it is allowed."""
        if value is None:
            return None if self.optional else "is missing"
        if self.kind == "flag":
            ok = isinstance(value, bool)
        elif self.kind == "choice":
            ok = isinstance(value, str) and value in self.choices
        elif self.kind == "address":
            ok = isinstance(value, str) and bool(value.strip())
        elif self.kind == "whole":
            ok = not isinstance(value, bool) and isinstance(value, int) and self._within(value)
        else:
            ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and self._within(value)
        return None if ok else f"must be {self.expected()}, got {value!r}"

    def _within(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.above and value == self.low)):
            return False
        return self.high is None or value <= self.high


def setting(default: Any, spec: Spec) -> Any:
    """A dataclass field holding ``default`` and described by ``spec``."""
    return field(default=default, metadata={"setting": spec})


def same_as(cls: Any, name: str) -> Any:
    """A field with the default and spec of ``cls``'s setting ``name``: a settings class that offers
    another's setting (the service's ``[plan] seconds`` is the routing search's ``seconds``) declares
    nothing twice."""
    for f, spec in settings_of(cls):
        if f.name == name:
            return setting(default_of(f), spec)
    raise KeyError(f"{cls.__name__} has no setting {name!r}")


def spec_of(f: Field[Any]) -> Spec | None:
    """A field's :class:`Spec` (``None`` for a field that is not a setting)."""
    return f.metadata.get("setting")


def settings_of(cls: Any) -> Iterator[tuple[Field[Any], Spec]]:
    """Each setting of a settings class (or instance), in declaration order."""
    for f in fields(cls):
        spec = spec_of(f)
        if spec is not None:
            yield f, spec


def check(instance: Any, *, label: Callable[[str], str] = str) -> None:
    """Refuse the first setting out of its spec, naming it as ``label(name)`` says.

    Raises
    ------
    ParameterError
        ``NAME must be ..., got VALUE``.
    """
    for f, spec in settings_of(instance):
        why = spec.problem(getattr(instance, f.name))
        if why is not None:
            raise ParameterError(f"{label(f.name)} {why}")


def default_of(f: Field[Any]) -> Any:
    return None if f.default is MISSING else f.default


def help_text(f: Field[Any], spec: Spec) -> str:
    """The help of a setting with its default and its range: ``... (default 1.3; >= 1)``."""
    shown = spec.shown_default
    if shown is None:
        value = default_of(f)
        shown = ("on" if value else "off") if spec.kind == "flag" else _num(value) if isinstance(value, (int, float)) else str(value)
    bound = f"; {spec.bound()}" if spec.bound() else ""
    return f"{spec.help} (default {shown}{bound})"


def add_options(
    parser: argparse.ArgumentParser | Any, cls: Any, names: Iterator[str] | tuple[str, ...] | None = None, *, flags: Mapping[str, str] | None = None
) -> None:
    """Add ``--NAME`` options for the settings of ``cls`` (all, or those in ``names``), each with the
    field's type, choices and help. Their default is ``None`` (not given), so that a configuration file
    read before them keeps what it sets; ``flags`` renames an option (``{"seconds": "--route-seconds"}``)."""
    wanted = None if names is None else set(names)
    for f, spec in settings_of(cls):
        if wanted is not None and f.name not in wanted:
            continue
        option = (flags or {}).get(f.name, "--" + f.name.replace("_", "-"))
        text = help_text(f, spec)
        if spec.kind == "flag":
            parser.add_argument(option, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif spec.kind == "choice":
            parser.add_argument(option, dest=f.name, choices=spec.choices, default=None, help=text)
        else:
            kind = {"number": float, "whole": int, "address": str}[spec.kind]
            parser.add_argument(option, dest=f.name, type=kind, default=None, help=text)


def options_given(args: argparse.Namespace, cls: Any) -> dict[str, Any]:
    """The settings of ``cls`` that the command line gave (options left out are not in it)."""
    return {f.name: getattr(args, f.name) for f, _ in settings_of(cls) if getattr(args, f.name, None) is not None}


def from_options(args: argparse.Namespace, cls: Any, *, names: tuple[str, ...] | None = None, flags: Mapping[str, str] | None = None) -> Any:
    """An instance of ``cls`` from the options the command line gave (the declared defaults for the
    rest; only ``names`` when given). A refused value names the option as it was typed
    (``--route-iterations must be a whole number >= 1, got 0``).

    Raises
    ------
    ParameterError
        An option out of its spec.
    """
    values = {k: v for k, v in options_given(args, cls).items() if names is None or k in names}
    for f, spec in settings_of(cls):
        if f.name in values:
            why = spec.problem(values[f.name])
            if why is not None:
                raise ParameterError(f"{(flags or {}).get(f.name, '--' + f.name.replace('_', '-'))} {why}")
    return cls(**values)


def json_schema(cls: Any) -> dict[str, dict[str, Any]]:
    """Each setting of ``cls`` as a JSON Schema (type, bounds, enum, default, description)."""
    out: dict[str, dict[str, Any]] = {}
    for f, spec in settings_of(cls):
        schema: dict[str, Any]
        if spec.kind == "flag":
            schema = {"type": "boolean"}
        elif spec.kind == "choice":
            schema = {"enum": list(spec.choices)}
        elif spec.kind == "address":
            schema = {"type": "string", "minLength": 1, "pattern": "\\S"}
        else:
            schema = {"type": "number" if spec.kind == "number" else "integer"}
            if spec.low is not None:
                schema["exclusiveMinimum" if spec.above else "minimum"] = spec.low
            if spec.high is not None:
                schema["maximum"] = spec.high
        if spec.optional:
            schema = {"anyOf": [schema, {"type": "null"}]}
        schema["description"] = help_text(f, spec)
        default = default_of(f)
        if default is not None:
            schema["default"] = default
        out[f.name] = schema
    return out


def _num(value: Any) -> str:
    """A bound or default as people write it: 1, 0.5, 36,500, 1e+12 -> 1,000,000,000,000."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


__all__ = ["Spec", "add_options", "check", "from_options", "help_text", "json_schema", "options_given", "same_as", "setting", "settings_of", "spec_of"]
