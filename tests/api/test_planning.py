"""The service's route planning settings: the ``[plan]`` table of ``HARVEST_CONFIG`` beside the cycle
parameters, the app's ``PLAN_*`` keys, and what each refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import create_app
from api.planning import PlanConfig, read_config
from harvestmatch.errors import ParameterError
from matcher.params import MatchParams


@pytest.mark.parametrize(
    "text",
    [
        "circuity = 1.25\n\n[plan]\niterations = 50\nseconds = 2\nworkers = 3\n",
        "[match]\ncircuity = 1.25\n\n[plan]\niterations = 50\nseconds = 2.0\nworkers = 3\n",
    ],
    ids=["top-level", "match-table"],
)
def test_the_config_file_holds_cycle_parameters_and_plan_settings(tmp_path: Path, text: str) -> None:
    path = tmp_path / "harvest.toml"
    path.write_text(text)
    params, plan = read_config(path)
    assert params == MatchParams(circuity=1.25)
    assert plan == PlanConfig(iterations=50, seconds=2, workers=3)


def test_without_a_plan_table_the_defaults_hold(tmp_path: Path) -> None:
    path = tmp_path / "harvest.toml"
    path.write_text("km_per_day = 550\n")
    assert read_config(path) == (MatchParams(km_per_day=550), PlanConfig())
    assert PlanConfig().app_config() == {
        "PLAN_ROUTES": True,
        "PLAN_ITERATIONS": 1000,
        "PLAN_SECONDS": 5.0,
        "PLAN_BUDGET": 20_000_000,
        "PLAN_WORKERS": None,
        "PLAN_SPEED_KMH": 60.0,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[plan]\nroutes = 1\n", "PLAN_ROUTES ([plan] routes) must be true or false"),
        ("[plan]\niterations = 0\n", "PLAN_ITERATIONS ([plan] iterations) must be a whole number >= 1"),
        ("[plan]\niterations = 2.5\n", "PLAN_ITERATIONS ([plan] iterations) must be a whole number >= 1"),
        ("[plan]\nseconds = inf\n", "PLAN_SECONDS ([plan] seconds) must be a finite number > 0"),
        ("[plan]\nseconds = 0\n", "PLAN_SECONDS ([plan] seconds) must be a finite number > 0"),
        ("[plan]\nworkers = 0\n", "PLAN_WORKERS ([plan] workers) must be a whole number from 1 to 256"),
        ("[plan]\nspeed_kmh = -5\n", "PLAN_SPEED_KMH ([plan] speed_kmh) must be a finite number > 0"),
        ("[plan]\nroute = false\n", "unknown [plan] setting(s): route"),
        ("plan = 3\n", "plan must be a table"),
        ("colour = 3\n", "unknown parameter(s): colour"),
        ("[plan\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_naming_them(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "harvest.toml"
    path.write_text(text)
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        read_config(path)


def test_the_app_takes_its_settings_from_the_file_and_refuses_bad_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "harvest.toml"
    path.write_text("[match]\nworkers = 2\n\n[plan]\nroutes = false\n")
    monkeypatch.setenv("HARVEST_CONFIG", str(path))
    url = f"sqlite:///{tmp_path / 'harvest.db'}"
    app = create_app({"DATABASE_URL": url})
    assert app.config["CYCLE_PARAMS"].workers == 2 and app.config["PLAN_ROUTES"] is False
    assert app.extensions["harvest_plan"] == PlanConfig(routes=False)
    app.extensions["harvest_db"].engine.dispose()
    with pytest.raises(ParameterError, match="PLAN_SECONDS"):
        create_app({"DATABASE_URL": url, "PLAN_SECONDS": "soon"})


def test_a_plan_uses_the_cycles_workers_unless_the_service_names_its_own() -> None:
    assert PlanConfig().settings(MatchParams(workers=3)).workers == 3
    assert PlanConfig(workers=1).settings(MatchParams(workers=3)).workers == 1
    settings = PlanConfig(iterations=7, seconds=1.5, speed_kmh=45).settings(MatchParams(circuity=1.4))
    assert (settings.solve.iterations, settings.solve.seconds, settings.travel.circuity, settings.travel.speed_kmh) == (7, 1.5, 1.4, 45)
