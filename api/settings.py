"""The service's own settings tables of ``HARVEST_CONFIG`` (``[plan]``, ``[after_sales]``): one way to read
a table, to take it from the app's configuration keys and to put it back there.

A settings class is a frozen dataclass whose fields are :func:`harvestmatch.settings.setting` fields; it
names its TOML table (``TABLE``) and the prefix of its app keys (``PREFIX``: ``[plan] iterations`` is
the app's ``PLAN_ITERATIONS``), and inherits the rest from :class:`SettingsTable`: the check on
creation (:func:`harvestmatch.settings.check`, each message naming the app key and the TOML key), the
readers and :meth:`SettingsTable.app_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

from harvestmatch.errors import ParameterError
from harvestmatch.settings import Spec, check, setting


class SettingsTable:
    """Reading, writing and checking one settings table (mixed into a frozen dataclass)."""

    TABLE: ClassVar[str]
    PREFIX: ClassVar[str]

    def __post_init__(self) -> None:
        check(self, label=self.label)

    @classmethod
    def keys(cls) -> dict[str, str]:
        """The app's configuration key of each setting: ``PREFIX`` + its name in capitals."""
        return {f.name: cls.PREFIX + f.name.upper() for f in fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def label(cls, name: str) -> str:
        """A setting as messages name it: its app key and its TOML key, ``PLAN_SECONDS ([plan] seconds)``."""
        return f"{cls.keys()[name]} ([{cls.TABLE}] {name})"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Settings from the table's keys; unknown keys are an error naming them."""
        known = cls.keys()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ParameterError(f"unknown [{cls.TABLE}] setting(s): {', '.join(unknown)} (known: {', '.join(known)})")
        return cls(**values)

    @classmethod
    def from_app_config(cls, config: Mapping[str, Any]) -> Self:
        """Settings from the app's configuration keys (absent keys keep their defaults)."""
        return cls(**{name: config[key] for name, key in cls.keys().items() if key in config})

    @classmethod
    def table(cls, document: Mapping[str, Any], source: str) -> Mapping[str, Any]:
        """The class's table of a parsed TOML document (empty when absent); not a table is an error."""
        table = document.get(cls.TABLE, {})
        if not isinstance(table, dict):
            raise ParameterError(f"{source}: {cls.TABLE} must be a table ([{cls.TABLE}]), got {table!r}")
        return table

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str) -> Self:
        """Settings from a table, errors naming ``source``."""
        try:
            return cls.from_mapping(table)
        except (ParameterError, TypeError) as exc:
            raise ParameterError(f"{source}: {exc}") from exc

    def app_config(self) -> dict[str, Any]:
        """The app's configuration keys holding these settings."""
        keys = self.keys()
        return {keys[f.name]: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class WorkerSettings:
    """How a cycle worker holds and looks for cycles: ``harvest worker``'s options, the app's
    ``WORKER_LEASE_SECONDS`` and ``WORKER_POLL_SECONDS`` (:class:`api.worker.Worker`, :mod:`api.jobs`);
    validated on creation.

    Raises
    ------
    ParameterError
        A setting of the wrong type or out of range, naming it.
    """

    lease_seconds: float = setting(
        30.0, Spec("number", "a cycle whose worker stops renewing its lease for this long is taken over, in seconds", low=0, above=True)
    )
    poll_seconds: float = setting(1.0, Spec("number", "how often an idle worker looks for a queued cycle, in seconds", low=0, above=True))
    max_attempts: int = setting(3, Spec("whole", "workers lost on one cycle before it is marked failed instead of taken over", low=1))

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class CycleDates:
    """How far from today a cycle may be dated without ``"confirm_far_date": true`` (the app's
    ``CYCLE_DATE_WINDOW_DAYS``); validated on creation, so a bad value stops the start."""

    window_days: int = setting(7, Spec("whole", "a cycle dated more than this many days from today needs confirm_far_date", low=0, high=36_500))

    def __post_init__(self) -> None:
        check(self, label=lambda _: "CYCLE_DATE_WINDOW_DAYS")
