"""The documented parameter tables say what the declarations say: a default or a limit changed in the
code and not in docs/design.md or docs/service.md fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api.after_sales import AfterSalesConfig
from api.dfc_settings import DfcConfig
from api.planning import PlanConfig
from harvestmatch.settings import settings_of
from matcher.params import MatchParams

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _table(path: Path, header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table whose header row starts with ``header``: first cell (without
    backticks) -> the cells."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows[cells[0].strip("`")] = cells
    return rows


def _number(text: str) -> float | None:
    """The first number in a cell (1,000 and 10^12 as written), or None."""
    text = text.strip("`").replace(",", "")
    power = re.search(r"10\^(\d+)", text)
    if power:
        return float(10 ** int(power.group(1)))
    found = re.search(r"-?\d+(\.\d+)?", text)
    return float(found.group()) if found else None


def _shown_default(value: Any) -> str | float | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value)
    return value


def test_the_cycle_parameters_table_has_every_parameter_with_its_default() -> None:
    rows = _table(DOCS / "design.md", "| parameter | default | limits | meaning |")
    assert {f.name for f, _ in settings_of(MatchParams)} <= set(rows)
    for f, spec in settings_of(MatchParams):
        cells = rows[f.name]
        default = _shown_default(f.default)
        if isinstance(default, float):
            assert _number(cells[1]) == pytest.approx(default), f.name
        elif default is not None:
            assert str(default) in cells[1], f.name
        if spec.low is not None:
            assert _number(cells[2]) == pytest.approx(spec.low), f.name


@pytest.mark.parametrize(
    ("cls", "header"),
    [
        (PlanConfig, "| `[plan]` key | app key | default |"),
        (AfterSalesConfig, "| `[after_sales]` key | app key | default |"),
        (DfcConfig, "| `[dfc]` key | app key | default |"),
    ],
    ids=["plan", "after_sales", "dfc"],
)
def test_the_service_settings_tables_have_every_setting_with_its_key_and_default(cls: Any, header: str) -> None:
    rows = _table(DOCS / "service.md", header)
    keys = cls.keys()
    assert set(keys) == set(rows)
    for f, spec in settings_of(cls):
        cells = rows[f.name]
        assert cells[1].strip("`") == keys[f.name]
        default = _shown_default(f.default)
        if isinstance(default, float):
            assert _number(cells[2]) == pytest.approx(default), f.name
        elif default is None:
            assert "unset" in cells[2], f.name
        else:
            assert str(default) in cells[2], f.name
        if spec.high is not None:
            assert f"{spec.high:,.0f}".replace(",", "") in " ".join(cells).replace(",", "") or "10^" in " ".join(cells), f.name
