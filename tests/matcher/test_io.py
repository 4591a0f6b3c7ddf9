"""The output folder is replaced as a whole, or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from harvestmatch.errors import InputError
from matcher.io import Folder, write_outputs

FIRST = {"allocations.csv": pl.DataFrame({"a": [1]}), "orders_out.csv": pl.DataFrame({"o": ["x"]})}
SECOND = {"allocations.csv": pl.DataFrame({"a": [2]})}


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def beside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_outputs(out, FIRST, lambda: {"run": 1})
    assert sorted(contents(out)) == ["allocations.csv", "orders_out.csv", "summary.json"]
    return out


def test_a_new_run_replaces_every_file(previous: Path) -> None:
    write_outputs(previous, SECOND, lambda: {"run": 2})
    assert contents(previous) == {"allocations.csv": "a\n2\n", "summary.json": '{\n  "run": 2\n}\n'}
    assert beside(previous) == []


def test_the_folder_has_the_usual_permissions(previous: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    assert previous.stat().st_mode & 0o777 == 0o777 & ~mask


def _fail_summary() -> dict:
    raise RuntimeError("summary failed")


def test_a_failure_while_writing_leaves_the_previous_set(previous: Path) -> None:
    before = contents(previous)
    with pytest.raises(RuntimeError, match="summary failed"):
        write_outputs(previous, SECOND, _fail_summary)
    assert contents(previous) == before and beside(previous) == []


def test_a_failure_while_swapping_puts_the_previous_set_back(previous: Path) -> None:
    before = contents(previous)

    def replace(src: Path, dst: Path) -> None:
        if Path(src).name.startswith(".out.staging"):
            raise PermissionError(13, "Permission denied", str(dst))
        os.replace(src, dst)

    with pytest.raises(PermissionError):
        write_outputs(previous, SECOND, lambda: {"run": 2}, replace=replace)
    assert contents(previous) == before and beside(previous) == []


def test_a_folder_of_other_files_is_refused_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    (home / "summary.json").write_text("{}")
    with pytest.raises(InputError, match=r"home: is not a previous output folder \(it holds thesis\.tex\)"):
        write_outputs(home, SECOND, lambda: {"run": 2})
    assert contents(home) == {"summary.json": "{}", "thesis.tex": "years of work"} and beside(home) == []


@pytest.mark.parametrize("where", [".", ".."])
def test_the_current_folder_is_refused_untouched(previous: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    before = contents(previous)
    monkeypatch.chdir(previous)
    with pytest.raises(InputError, match="is the current folder"):
        write_outputs(where, SECOND, lambda: {"run": 2})
    assert contents(previous) == before


def test_a_private_folder_stays_private(previous: Path) -> None:
    previous.chmod(0o700)
    write_outputs(previous, SECOND, lambda: {"run": 2})
    assert previous.stat().st_mode & 0o777 == 0o700


def test_a_run_killed_between_the_renames_gets_its_previous_set_back(previous: Path) -> None:
    before = contents(previous)
    os.replace(previous, previous.with_name(f".{previous.name}.previous-dead"))  # where the kill left it
    write_outputs(previous, SECOND, lambda: {"run": 2})
    assert contents(previous) == {"allocations.csv": "a\n2\n", "summary.json": '{\n  "run": 2\n}\n'}
    assert before != contents(previous) and beside(previous) == []


def test_a_plan_folder_lands_with_the_result_or_not_at_all(previous: Path) -> None:
    plan = Folder({"routes.csv": pl.DataFrame({"route_id": ["r1"]})}, {"status": "served"}, {"routes.geojson": "{}"})
    write_outputs(previous, SECOND, lambda: {"run": 2}, folders={"plan": plan})
    assert contents(previous / "plan") == {"routes.csv": "route_id\nr1\n", "routes.geojson": "{}", "summary.json": '{\n  "status": "served"\n}\n'}
    with_plan = {**contents(previous / "plan")}
    broken = Folder({"routes.csv": pl.DataFrame({"route_id": ["r2"]})}, {"status": "served"}, {"routes.geojson": None})  # type: ignore[dict-item]
    with pytest.raises(TypeError):  # the plan cannot be written: neither is the result
        write_outputs(previous, FIRST, lambda: {"run": 3}, folders={"plan": broken})
    assert (previous / "summary.json").read_text() == '{\n  "run": 2\n}\n' and contents(previous / "plan") == with_plan
    assert beside(previous) == []
