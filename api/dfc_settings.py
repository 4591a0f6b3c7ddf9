"""The DFC exchange's settings: the ``[dfc]`` table of ``HARVEST_CONFIG`` and the app's ``DFC_*`` keys.

They are :class:`matcher.dfc.DfcDefaults` (what our offers need and DFC does not say: grade, shelf
life, and the one currency our prices are in), read and checked the way ``[plan]`` and ``[after_sales]``
are (:class:`api.settings.SettingsTable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from api.settings import SettingsTable
from matcher.dfc_defaults import DfcDefaults


@dataclass(frozen=True)
class DfcConfig(SettingsTable, DfcDefaults):
    """``[dfc]``: ``grade`` (``DFC_GRADE``), ``shelf_life_days`` (``DFC_SHELF_LIFE_DAYS``), ``currency``
    (``DFC_CURRENCY``)."""

    TABLE: ClassVar[str] = "dfc"
    PREFIX: ClassVar[str] = "DFC_"
