"""After-sales settings: the claim window, the instant refund-only thresholds and the forgetting of the
scores, from the ``[after_sales]`` table of ``HARVEST_CONFIG`` and the app's ``AFTER_SALES_*`` keys.

Each setting of :class:`AfterSalesConfig` is an ``[after_sales]`` key and an app key ``AFTER_SALES_`` +
its name in capitals (``claim_window_days`` is ``AFTER_SALES_CLAIM_WINDOW_DAYS``); the class declares
each one's default, limits and meaning once, and docs/service.md lists them.
Unknown or bad settings stop the service at start, naming the setting (:mod:`api.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from api.settings import SettingsTable
from harvestmatch.settings import Spec, setting

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

    claim_window_days: int = setting(7, Spec("whole", "a claim is filed at most this many days after the order's due date", low=0, high=MAX_WINDOW_DAYS))
    instant_credit: float = setting(
        0.7, Spec("number", "the buyer credit score a refund-only claim needs to be approved at once", low=0, high=1, meaning="a credit score")
    )
    instant_cap: float = setting(200.0, Spec("number", "the most money a claim approved at once may be worth", low=0, high=MAX_CAP, meaning="money"))
    forgetting: float = setting(
        0.9,
        Spec(
            "number",
            "the weight an outcome keeps per cycle date since it (1: nothing is forgotten)",
            low=0,
            above=True,
            high=1,
            meaning="the weight an outcome keeps per cycle date",
        ),
    )
    max_instant_rejections: int = setting(2, Spec("whole", "recent rejections (or refunds found unreasonable) that stop instant approval", low=1, high=10**6))

    TABLE: ClassVar[str] = "after_sales"
    PREFIX: ClassVar[str] = "AFTER_SALES_"


def read_after_sales(path: str | Path) -> AfterSalesConfig:
    """The ``[after_sales]`` table of the TOML file ``HARVEST_CONFIG`` (defaults without one).

    Raises
    ------
    ParameterError
        The file cannot be read, is not TOML, or holds an unknown or bad setting, naming it.
    """
    from matcher.io import read_toml

    return AfterSalesConfig.from_table(AfterSalesConfig.table(read_toml(path), str(path)), str(path))
