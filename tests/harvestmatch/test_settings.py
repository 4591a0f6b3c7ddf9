"""Every parameter declared once: the check, the command line and the service's settings agree with
the declaration (:mod:`harvestmatch.settings`)."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from api.after_sales import AfterSalesConfig
from api.planning import PlanConfig
from harvest.cli import _parser
from harvestmatch.errors import ParameterError
from harvestmatch.settings import Spec, json_schema, settings_of
from matcher.params import MatchParams
from matcher.routing.tables import Travel
from matcher.routing.vrp import SolveSettings

CLASSES = (MatchParams, SolveSettings, Travel, PlanConfig, AfterSalesConfig)


def _subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _edges(spec: Spec) -> tuple[list[object], list[object]]:
    """Values at the spec's limits (allowed) and just past them (refused)."""
    step = 1 if spec.kind == "whole" else 1e-9
    inside, outside = [], []
    if spec.low is not None:
        (outside if spec.above else inside).append(spec.low if spec.kind != "whole" else int(spec.low))
        outside.append(spec.low - step if spec.kind == "whole" else spec.low - 1e-6)
        if spec.above:
            inside.append(spec.low + step)
    if spec.high is not None:
        inside.append(spec.high if spec.kind != "whole" else int(spec.high))
        outside.append(spec.high + (step if spec.kind == "whole" else max(1e-6, abs(spec.high) * 1e-9)))
    return inside, outside


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_setting_takes_its_limits_and_refuses_past_them_naming_itself(cls: type) -> None:
    for f, spec in settings_of(cls):
        inside, outside = _edges(spec)
        if spec.kind == "choice":
            inside, outside = list(spec.choices), ["no such choice"]
        elif spec.kind == "flag":
            inside, outside = [True, False], [1, "yes"]
        for value in inside:
            assert getattr(cls(**{f.name: value}), f.name) == value
        for value in outside:
            with pytest.raises(ParameterError, match=f"{f.name}.*must be .*got {value!r}"):
                cls(**{f.name: value})
        if not spec.optional:
            with pytest.raises(ParameterError, match=f.name):
                cls(**{f.name: None})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_defaults_are_valid_and_every_setting_is_described(cls: type) -> None:
    default = cls()
    schema = json_schema(cls)
    for f, spec in settings_of(cls):
        assert spec.help and f.name in schema
        if getattr(default, f.name) is not None:
            assert schema[f.name]["default"] == getattr(default, f.name)


def test_the_command_line_offers_each_cycle_parameter_with_its_declared_default() -> None:
    match = _subparser("match")
    options = {a.dest: a for a in match._actions}
    for f, spec in settings_of(MatchParams):
        action = options[f.name]
        assert action.default is None  # not given: the config file or the declaration decides
        assert "(default " in (action.help or "")
        if spec.kind == "choice":
            assert tuple(action.choices or ()) == spec.choices
        shown = spec.shown_default
        if shown is None and isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
            assert f"(default {f.default:g}" in (action.help or "").replace(",", "")


def test_the_routing_search_has_one_default_everywhere() -> None:
    """harvest routes, harvest plan, harvest match --plan and the service's [plan] table."""
    search = SolveSettings()
    for name, flag in (("routes", "iterations"), ("plan", "iterations"), ("match", "iterations")):
        help_text = next(a.help for a in _subparser(name)._actions if a.dest == flag)
        assert f"(default {search.iterations:,};" in (help_text or "")
    plan = PlanConfig()
    assert (plan.iterations, plan.seconds, plan.speed_kmh) == (search.iterations, search.seconds, Travel().speed_kmh)
    assert {f.name for f in fields(PlanConfig)} >= {"iterations", "seconds", "speed_kmh"}


def test_option_abbreviations_are_refused_in_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from harvest.cli import main

    # --freight-per would have been read as --freight-per-kg-km
    with pytest.raises(SystemExit) as stop:
        main(["match", "--offers", "o.csv", "--orders", "r.csv", "--regions", "g.gpkg", "--date", "2026-01-01", "--out", "x", "--freight-per", "3"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --freight-per 3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["keys", "create", "--rol", "operator"])
    assert "--role" in capsys.readouterr().err


def test_settings_tables_name_the_app_key_and_the_toml_key() -> None:
    assert PlanConfig.keys()["seconds"] == "PLAN_SECONDS"
    assert AfterSalesConfig.keys()["forgetting"] == "AFTER_SALES_FORGETTING"
    with pytest.raises(ParameterError, match=r"PLAN_SECONDS \(\[plan\] seconds\) must be a finite number > 0, got 0"):
        PlanConfig(seconds=0)


def test_a_bad_cycle_date_window_stops_the_service_at_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api import create_app

    with pytest.raises(ParameterError, match=r"CYCLE_DATE_WINDOW_DAYS must be a whole number from 0 to 36,500, got -1"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "CYCLE_DATE_WINDOW_DAYS": -1})
