"""After-sales settings: the claim window, the instant refund-only thresholds and the forgetting of the
scores, from the ``[after_sales]`` table of ``HARVEST_CONFIG`` and the app's ``AFTER_SALES_*`` keys.

Configuration (each ``[after_sales]`` key has an app key of the same meaning, for ``create_app``)::

    claim_window_days        AFTER_SALES_CLAIM_WINDOW_DAYS        a claim is filed at most this many days after the order's due date (7)
    instant_credit           AFTER_SALES_INSTANT_CREDIT           the buyer credit score a refund-only claim needs to be approved at once (0.7)
    instant_cap              AFTER_SALES_INSTANT_CAP              the most money a claim approved at once may be worth (200)
    forgetting               AFTER_SALES_FORGETTING               the weight an outcome keeps per cycle date since it (0.9; 1: nothing is forgotten)
    max_instant_rejections   AFTER_SALES_MAX_INSTANT_REJECTIONS   recent rejections (or refunds found unreasonable) that stop instant approval (2)

Unknown or bad settings stop the service at start, naming the setting (as :class:`api.planning.PlanConfig`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from api.settings import SettingsTable
from harvestmatch.errors import ParameterError

#: the app's configuration key of each setting (and the ``[after_sales]`` key of ``HARVEST_CONFIG``)
CONFIG_KEYS = {
    "claim_window_days": "AFTER_SALES_CLAIM_WINDOW_DAYS",
    "instant_credit": "AFTER_SALES_INSTANT_CREDIT",
    "instant_cap": "AFTER_SALES_INSTANT_CAP",
    "forgetting": "AFTER_SALES_FORGETTING",
    "max_instant_rejections": "AFTER_SALES_MAX_INSTANT_REJECTIONS",
}

#: the longest claim window (the contract's longest count of days)
MAX_WINDOW_DAYS = 36_500
#: the largest instant cap (the contract's largest money per kg times a very large claim: any real cap is below)
MAX_CAP = 10**12


@dataclass(frozen=True)
class AfterSalesConfig(SettingsTable):
    """The after-sales settings (see the module docstring); validated on creation.

    Raises
    ------
    ParameterError
        A setting of the wrong type or out of range, naming it.
    """

    claim_window_days: int = 7
    instant_credit: float = 0.7
    instant_cap: float = 200.0
    forgetting: float = 0.9
    max_instant_rejections: int = 2

    TABLE: ClassVar[str] = "after_sales"
    KEYS: ClassVar[Mapping[str, str]] = CONFIG_KEYS

    def __post_init__(self) -> None:
        _whole(self, "claim_window_days", 0, MAX_WINDOW_DAYS)
        _number(self, "instant_credit", 0.0, 1.0, "from 0 to 1 (a credit score)")
        _number(self, "instant_cap", 0.0, MAX_CAP, f"from 0 to {MAX_CAP:,} (money)")
        _number(self, "forgetting", 0.0, 1.0, "above 0 and at most 1 (the weight an outcome keeps per cycle date)")
        if self.forgetting == 0:
            raise ParameterError(f"{_named('forgetting')} must be above 0 and at most 1 (the weight an outcome keeps per cycle date), got 0")
        _whole(self, "max_instant_rejections", 1, 10**6)

def read_after_sales(path: str | Path) -> AfterSalesConfig:
    """The ``[after_sales]`` table of the TOML file ``HARVEST_CONFIG`` (defaults without one).

    Raises
    ------
    ParameterError
        The file cannot be read, is not TOML, or holds an unknown or bad setting, naming it.
    """
    from matcher.params import read_toml

    return AfterSalesConfig.from_table(AfterSalesConfig.table(read_toml(path), str(path)), str(path))


def _whole(config: AfterSalesConfig, name: str, low: int, high: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"{_named(name)} must be a whole number from {low} to {high:,}, got {value!r}")


def _number(config: AfterSalesConfig, name: str, low: float, high: float, what: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not low <= value <= high:
        raise ParameterError(f"{_named(name)} must be a number {what}, got {value!r}")


def _named(name: str) -> str:
    """A setting as messages name it: its app key and its ``[after_sales]`` key."""
    return f"{CONFIG_KEYS[name]} ([after_sales] {name})"
