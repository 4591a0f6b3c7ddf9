"""What imported DFC offers get that the Data Food Consortium does not say (:mod:`matcher.dfc`), apart from
the mapping so that reading the settings (``harvest --help``, the service's start) imports no RDF library."""

from __future__ import annotations

from dataclasses import dataclass

from harvestmatch.settings import Spec, check, setting

#: the currencies of the DFC measures taxonomy (by local name); prices are never converted between them
CURRENCIES = ("AustralianDollar", "CanadianDollar", "Euro", "PoundSterling", "USDollar")


@dataclass(frozen=True)
class DfcDefaults:
    """What our offers need and DFC does not say: written into every imported offer unless the
    document gives it (a SuppliedProduct's ``lifetime`` gives the shelf life)."""

    grade: str = setting("A", Spec("choice", choices=("A", "B", "C"), help="the grade of an imported offer (DFC has none)"))
    shelf_life_days: int = setting(7, Spec("whole", low=0, high=36_500, help="shelf life of an imported offer whose product gives no dfc-b:lifetime"))
    currency: str = setting("Euro", Spec("choice", choices=CURRENCIES, help="the currency of our prices (dfc-m:NAME); a DFC price in another is refused"))

    def __post_init__(self) -> None:
        check(self)
