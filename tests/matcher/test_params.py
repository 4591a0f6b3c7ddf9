from __future__ import annotations

import re
from pathlib import Path

import pytest

from matcher import MatchParams, ParameterError
from matcher.io import read_params


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"circuity": 0.9}, "circuity must be a finite number >= 1"),
        ({"km_per_day": 0}, "km_per_day must be a finite number > 0"),
        ({"freight_per_kg_km": float("nan")}, "freight_per_kg_km must be a finite number"),
        ({"handling_per_kg": -0.1}, "handling_per_kg must be a finite number >= 0"),
        ({"k_nearest": 2.5}, "k_nearest must be a whole number >= 1"),
        ({"max_rounds": True}, "max_rounds must be a whole number >= 1"),
        ({"workers": 0}, "workers must be a whole number from 1 to 256"),
        ({"price_rule": "seller"}, "price_rule must be one of farmer, buyer, midpoint"),
        ({"solver": "highs"}, "solver must be one of simplex, ortools, got 'highs'"),
        ({"speed": 3}, "unknown parameter"),
    ],
)
def test_bad_parameters_are_named(values: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        MatchParams.from_mapping(values)


def test_toml_top_level_and_table(tmp_path: Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text("circuity = 1.5\n")
    table = tmp_path / "table.toml"
    table.write_text("[match]\nprice_rule = 'buyer'\n")
    assert read_params(flat).circuity == 1.5
    assert read_params(table).price_rule == "buyer"
    # the service's [plan] table beside top-level cycle keys is the service's, not an unknown parameter
    shared = tmp_path / "shared.toml"
    shared.write_text("fill_rule = 'max_min'\n[plan]\niterations = 50\n")
    assert read_params(shared).fill_rule == "max_min"
    beside = tmp_path / "beside.toml"
    beside.write_text("circuity = 1.4\n[match]\nk_nearest = 3\n")
    with pytest.raises(ParameterError, match="circuity set outside the \\[match\\] table"):
        read_params(beside)
    not_a_table = tmp_path / "not_a_table.toml"
    not_a_table.write_text("match = 3\n")
    with pytest.raises(ParameterError, match="match must be a table"):
        read_params(not_a_table)
    stray = tmp_path / "stray.toml"
    stray.write_text("circuity = 1.4\n[matching]\nk_nearest = 3\n")
    with pytest.raises(ParameterError, match="unknown parameter"):
        read_params(stray)


def test_toml_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("circuity = \n")
    with pytest.raises(ParameterError, match="broken.toml: not valid TOML"):
        read_params(broken)
    with pytest.raises(ParameterError, match="cannot read"):
        read_params(tmp_path / "absent.toml")


def test_a_shared_config_keeps_the_services_tables_to_the_service(tmp_path) -> None:
    """Top-level cycle keys beside the service's [plan] and [after_sales] tables and a [safety_net] table."""

    path = tmp_path / "harvest.toml"
    path.write_text("handling_per_kg = 0.2\n[plan]\nroutes = false\n[after_sales]\ninstant_cap = 50\n[safety_net]\nmin_share = 0.5\n")
    params = read_params(path)
    assert (params.handling_per_kg, params.small_share) == (0.2, 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("small_share = 0.5\n[safety_net]\nmin_share = 0.25\n", "safety_net.min_share and small_share both set; set each once"),
        ("[safety_net]\nmin_share = 2\n", "safety_net.min_share must be a finite number from 0 to 1"),
        ("[safety_net]\nshare = 0.5\n", "unknown safety_net key(s): share"),
        ("safety_net = 3\n", "safety_net must be a table"),
    ],
)
def test_bad_safety_net_tables_name_the_key_as_written(tmp_path, text: str, message: str) -> None:
    from harvestmatch.errors import ParameterError

    path = tmp_path / "harvest.toml"
    path.write_text(text)
    with pytest.raises(ParameterError, match=re.escape(message)):
        read_params(path)
