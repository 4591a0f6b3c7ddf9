"""The batch contract through ``harvest match``: outputs, exit codes, and one line per bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
import shapely

from harvest.cli import main
from matcher.results import ALLOCATION_COLUMNS, DEMAND_COLUMNS, OFFER_COLUMNS
from matcher.schemas import DEMAND, OFFERS, ORDERS, parse_table
from matcher.settlement import SETTLEMENT_COLUMNS
from tests.frames import DATE, demand_frame, offers_frame


@pytest.fixture
def day(tmp_path: Path) -> dict[str, Path]:
    """A valid small day on disk: two regions, three offers, three demand rows."""
    offers = offers_frame([{"lat": 30.1, "lon": 110.1}, {"lat": 31.0, "lon": 111.0, "grade": "B"}, {"product": "kale", "quantity_kg": 40}])
    demand = demand_frame([{"region_id": "r0"}, {"region_id": "r1", "quantity_kg": 250}, {"region_id": "r1", "product": "kale"}])
    regions = gpd.GeoDataFrame(
        {"region_id": ["r0", "r1"], "hub_lat": [30.0, None], "hub_lon": [110.0, None]},
        geometry=[shapely.box(109, 29, 111, 31), shapely.box(111, 30, 113, 32)],
        crs="EPSG:4326",
    )
    paths = {"offers": tmp_path / "offers.csv", "demand": tmp_path / "demand.csv", "regions": tmp_path / "regions.geojson"}
    offers.write_csv(paths["offers"])
    demand.write_csv(paths["demand"])
    regions.to_file(paths["regions"], driver="GeoJSON")
    paths["out"] = tmp_path / "out"
    return paths


def args(day: dict[str, Path], *extra: str) -> list[str]:
    return [
        "match",
        "--offers",
        str(day["offers"]),
        "--demand",
        str(day["demand"]),
        "--regions",
        str(day["regions"]),
        "--date",
        DATE.isoformat(),
        "--out",
        str(day["out"]),
        "--workers",
        "1",
        # the outputs checked here are the linear freight model's (trucks: test_freight.py)
        *(() if "--freight" in extra else ("--freight", "linear")),
        *extra,
    ]


def test_outputs_follow_the_contract(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(day)) == 0
    out = day["out"]
    assert tuple(pl.read_csv(out / "allocations.csv").columns) == ALLOCATION_COLUMNS
    assert tuple(pl.read_csv(out / "offers_out.csv").columns) == OFFER_COLUMNS
    assert tuple(pl.read_csv(out / "demand_out.csv").columns) == DEMAND_COLUMNS
    books = pl.read_csv(out / "settlement.csv", infer_schema=False)
    assert tuple(books.columns) == SETTLEMENT_COLUMNS
    assert sum(Decimal(v) for v in books["net"]) == 0, "the books balance to the cent"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settlement"]["balanced"] is True
    for key in ("welfare", "allocated_kg", "supply_kg", "demand_kg", "offers", "demand_rows", "lanes", "solver", "seconds", "status"):
        assert key in summary
    assert summary["status"] == "optimal" and summary["offers"] == 3 and summary["demand_rows"] == 3
    assert summary["hubs_derived"] == 1
    assert "welfare" in capsys.readouterr().out


def test_same_input_same_bytes(day: dict[str, Path]) -> None:
    assert main(args(day, "--quiet")) == 0
    first = {p.name: p.read_bytes() for p in day["out"].glob("*.csv")}
    assert main(args(day, "--quiet")) == 0
    assert first == {p.name: p.read_bytes() for p in day["out"].glob("*.csv")}


def test_both_solvers_give_the_same_bytes_and_say_how_they_solved(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    outputs, summaries = {}, {}
    for solver in ("simplex", "ortools"):
        assert main(args(day, "--solver", solver)) == 0
        outputs[solver] = {p.name: p.read_bytes() for p in day["out"].glob("*.csv")}
        summaries[solver] = json.loads((day["out"] / "summary.json").read_text())
        assert f"solver  {solver}: " in capsys.readouterr().out.replace("solver                     ", "solver  ")
    assert outputs["simplex"] == outputs["ortools"]
    assert summaries["simplex"]["solver"] == "simplex" and summaries["simplex"]["pivots"] >= 0  # the greedy start may be optimal
    assert summaries["ortools"]["solver"] == "ortools" and summaries["ortools"]["pivots"] == 0
    assert summaries["simplex"]["pricing"] == {"dense": 2, "bounded": 0, "given": 0}
    assert set(summaries["simplex"]["solver_seconds"]) >= {"lanes", "solve", "prices", "pricing"}


def test_parameters_from_a_toml_file(day: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "params.toml"
    config.write_text("[match]\nhandling_per_kg = 0.3\nk_nearest = 2\n")
    assert main(args(day, "--config", str(config), "--quiet")) == 0
    params = json.loads((day["out"] / "summary.json").read_text())["params"]
    assert (params["handling_per_kg"], params["k_nearest"]) == (0.3, 2)
    alloc = pl.read_csv(day["out"] / "allocations.csv")
    assert (alloc["cost_per_kg"] >= 0.3).all()


def test_the_safety_net_from_the_command_line(day: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cooperatives table names the small ones (extra columns kept and ignored); the policy comes from
    a TOML [safety_net] table; offers_out and the summary say what the floor did and cost."""
    offers = pl.read_csv(day["offers"]).with_columns(cooperative_id=pl.Series(["tiny", "big", "tiny"]), ask_per_kg=pl.Series([2.9, 1.0, 2.9]))
    offers.write_csv(day["offers"])
    coops = tmp_path / "cooperatives.csv"
    coops.write_text("cooperative_id,small,members\ntiny,TRUE,12\nbig,false,900\n")
    config = tmp_path / "params.toml"
    config.write_text("[match]\nhandling_per_kg = 0.1\n\n[safety_net]\nmin_share = 0.5\nmax_subsidy_per_kg = 1.0\n")
    assert main(args(day, "--config", str(config), "--cooperatives", str(coops))) == 0
    out = pl.read_csv(day["out"] / "offers_out.csv").sort("offer_id")
    assert out["floor_kg"].to_list() == [50, 0, 20]
    assert out["floor_met"].to_list() == [True, None, True]
    assert out["floor_reason"].to_list() == ["met", None, "met"]
    summary = json.loads((day["out"] / "summary.json").read_text())
    net = summary["safety_net"]
    assert (net["min_share"], net["max_subsidy_per_kg"], net["small_by"], net["small_cooperatives"]) == (0.5, 1.0, "table", 1)
    assert net["floor_kg"] == 70 and net["floor_shortfall_kg"] == 0
    assert net["price_of_fairness"] == pytest.approx(net["welfare_without_floor"] - net["welfare"])
    assert summary["inputs"]["cooperatives"].endswith("cooperatives.csv")
    assert "price of fairness" in capsys.readouterr().out
    # options override the file: no floor at all
    assert main(args(day, "--config", str(config), "--cooperatives", str(coops), "--small-share", "0", "--quiet")) == 0
    assert pl.read_csv(day["out"] / "offers_out.csv")["floor_kg"].sum() == 0


def test_expected_refunds_from_the_command_line(day: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quality = tmp_path / "quality.csv"
    quality.write_text("cooperative_id,product,refund_rate\ncoop,apple,0.25\n")
    assert main(args(day, "--quality", str(quality), "--quiet")) == 0
    plain = json.loads((day["out"] / "summary.json").read_text())
    assert plain["quality"] == {"refund_adjust": False, "offers_with_refund_rate": 2}
    assert main(args(day, "--quality", str(quality), "--refund-adjust")) == 0
    adjusted = json.loads((day["out"] / "summary.json").read_text())
    assert adjusted["params"]["refund_adjust"] is True and adjusted["inputs"]["quality"].endswith("quality.csv")
    assert adjusted["welfare"] < plain["welfare"]
    assert adjusted["quality"]["expected_refunds"] > 0
    assert "expected refunds" in capsys.readouterr().out


def _edit_csv(name: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[dict[str, Path]], None]:
    def edit(day: dict[str, Path]) -> None:
        path = day[name]
        change(pl.read_csv(path, infer_schema=False)).write_csv(path)

    return edit


def _set(name: str, column: str, value: str | None, row: int = 0):
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        values = frame[column].to_list()
        values[row] = value
        return frame.with_columns(pl.Series(column, values, dtype=pl.String))

    return _edit_csv(name, change)


def _regions(change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]):
    def edit(day: dict[str, Path]) -> None:
        frame = gpd.read_file(day["regions"])
        change(frame).to_file(day["regions"], driver="GeoJSON")

    return edit


def _write(name: str, text: str):
    def edit(day: dict[str, Path]) -> None:
        day[name].write_text(text)

    return edit


def _with_lanes(text: str):
    def edit(day: dict[str, Path]) -> None:
        day["lanes"] = day["offers"].parent / "lanes.csv"
        day["lanes"].write_text(text)

    return edit


def _with_cooperatives(text: str):
    def edit(day: dict[str, Path]) -> None:
        day["cooperatives"] = day["offers"].parent / "cooperatives.csv"
        day["cooperatives"].write_text(text)

    return edit


def _with_quality(text: str):
    def edit(day: dict[str, Path]) -> None:
        day["quality"] = day["offers"].parent / "quality.csv"
        day["quality"].write_text(text)

    return edit


BAD_INPUTS = [
    ("missing-column", _edit_csv("offers", lambda f: f.drop("ask_per_kg")), "offers.csv: column 'ask_per_kg': required column is missing"),
    ("negative-kg", _set("offers", "quantity_kg", "-5"), "offers.csv: row 1: column 'quantity_kg': expected a whole number of kg greater than 0, got '-5'"),
    (
        "fractional-kg",
        _set("demand", "quantity_kg", "2.5", row=1),
        "demand.csv: row 2: column 'quantity_kg': expected a whole number of kg greater than 0, got '2.5'",
    ),
    ("unknown-grade", _set("offers", "grade", "D", row=2), "offers.csv: row 3: column 'grade': expected one of A, B, C, got 'D'"),
    ("lowercase-grade", _set("demand", "min_grade", "a"), "demand.csv: row 1: column 'min_grade': expected one of A, B, C, got 'a'"),
    (
        "id-too-long",
        _set("offers", "cooperative_id", "c" * 65),
        "offers.csv: row 1: column 'cooperative_id': expected a non-empty identifier of at most 64 characters without NUL characters, got 'ccc",
    ),
    (
        "bad-date",
        _set("offers", "ready_date", "2026-02-30"),
        "offers.csv: row 1: column 'ready_date': expected a date as YYYY-MM-DD from 1900-01-01 to 2199-12-31, got '2026-02-30'",
    ),
    (
        "empty-date",
        _set("demand", "due_date", None),
        "demand.csv: row 1: column 'due_date': expected a date as YYYY-MM-DD from 1900-01-01 to 2199-12-31, got nothing",
    ),
    ("duplicate-id", _set("offers", "offer_id", "o0", row=1), "offers.csv: row 2: column 'offer_id': duplicate offer_id 'o0' (first at row 1)"),
    ("unknown-region", _set("demand", "region_id", "nowhere"), "demand.csv: row 1: column 'region_id': 'nowhere' is not a region in regions.geojson"),
    ("latitude-out-of-range", _set("offers", "lat", "91"), "offers.csv: row 1: column 'lat': expected a latitude in degrees from -90 to 90, got '91'"),
    ("longitude-not-a-number", _set("offers", "lon", "east"), "offers.csv: row 1: column 'lon': expected a longitude in degrees from -180 to 180, got 'east'"),
    ("price-not-finite", _set("demand", "price_per_kg", "inf"), "demand.csv: row 1: column 'price_per_kg': expected an amount from 0 to 1,000,000, got 'inf'"),
    (
        "negative-shelf-life",
        _set("offers", "shelf_life_days", "-1"),
        "offers.csv: row 1: column 'shelf_life_days': expected a whole number of days from 0 to 36,500, got '-1'",
    ),
    (
        "minimum-lot",
        _edit_csv("offers", lambda f: f.with_columns(min_lot_kg=pl.lit("500"))),
        "offers.csv: row 1: column 'min_lot_kg': 500 kg: minimum lots are not supported yet",
    ),
    ("empty-table-file", _write("demand", ""), "demand.csv: cannot read as csv"),
    (
        "duplicate-region",
        _regions(lambda f: f.assign(region_id=["r0", "r0"])),
        "regions.geojson: row 2: column 'region_id': duplicate region_id 'r0' (first at row 1)",
    ),
    (
        "region-without-id-column",
        _regions(lambda f: f.rename(columns={"region_id": "name"})),
        "regions.geojson: column 'region_id': required column is missing",
    ),
    (
        "region-is-a-point",
        _regions(lambda f: f.set_geometry([shapely.box(109, 29, 111, 31), shapely.Point(112, 31)], crs=f.crs)),
        "regions.geojson: row 2: column 'geometry': not a polygon",
    ),
    ("hub-out-of-range", _regions(lambda f: f.assign(hub_lat=[95.0, None])), "regions.geojson: row 1: column 'hub_lat': expected degrees from -90 to 90"),
    ("regions-not-vector-data", _write("regions", "this is not GeoJSON"), "regions.geojson: cannot read regions"),
    (
        "lane-unknown-offer",
        _with_lanes("offer_id,region_id,distance_km\nghost,r0,10\n"),
        "lanes.csv: row 1: column 'offer_id': 'ghost' is not an offer in offers.csv",
    ),
    (
        "lane-negative-distance",
        _with_lanes("offer_id,region_id,distance_km\no0,r0,-10\n"),
        "lanes.csv: row 1: column 'distance_km': expected a distance from 0 to 50,000 km, got '-10'",
    ),
    (
        "lane-duplicate",
        _with_lanes("offer_id,region_id,distance_km\no0,r0,10\no0,r0,12\n"),
        "lanes.csv: row 2: column 'offer_id + region_id': duplicate offer_id + region_id 'o0', 'r0' (first at row 1)",
    ),
    (
        "cooperative-not-a-flag",
        _with_cooperatives("cooperative_id,small\ncoop,maybe\n"),
        "cooperatives.csv: row 1: column 'small': expected true or false, got 'maybe'",
    ),
    (
        "cooperative-duplicate",
        _with_cooperatives("cooperative_id,small\ncoop,true\ncoop,false\n"),
        "cooperatives.csv: row 2: column 'cooperative_id': duplicate cooperative_id 'coop' (first at row 1)",
    ),
    ("cooperatives-without-flag", _with_cooperatives("cooperative_id,members\ncoop,12\n"), "cooperatives.csv: column 'small': required column is missing"),
    (
        "refund-rate-above-one",
        _with_quality("cooperative_id,product,refund_rate\ncoop,apple,1.5\n"),
        "quality.csv: row 1: column 'refund_rate': expected a share from 0 to 1, got '1.5'",
    ),
    (
        "refund-rate-twice",
        _with_quality("cooperative_id,product,refund_rate\ncoop,apple,0.1\ncoop,apple,0.2\n"),
        "quality.csv: row 2: column 'cooperative_id + product': duplicate cooperative_id + product 'coop', 'apple' (first at row 1)",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [pytest.param(e, m, id=name) for name, e, m in BAD_INPUTS])
def test_bad_input_exits_2_and_writes_nothing(day: dict[str, Path], edit, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    edit(day)
    extra = ("--lanes", str(day["lanes"])) if "lanes" in day else ()
    extra += ("--cooperatives", str(day["cooperatives"]), "--small-share", "0.5") if "cooperatives" in day else ()
    extra += ("--quality", str(day["quality"]), "--refund-adjust") if "quality" in day else ()
    assert main(args(day, *extra)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not day["out"].exists()


def test_every_problem_of_every_file_is_listed(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _set("offers", "quantity_kg", "0")(day)
    _set("offers", "grade", "Z", row=1)(day)
    _set("demand", "due_date", "tomorrow", row=2)(day)
    assert main(args(day)) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 3, lines
    assert not day["out"].exists()


def test_missing_file_and_unknown_format(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    day["offers"] = day["offers"].with_name("nope.csv")
    day["demand"] = day["demand"].with_suffix(".xlsx")
    assert main(args(day)) == 2
    err = capsys.readouterr().err
    assert "nope.csv: no such file" in err
    assert "demand.xlsx: unknown table format '.xlsx'" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--circuity", "0.5"), "circuity must be a finite number >= 1, got 0.5"),
        (("--km-per-day", "0"), "km_per_day must be a finite number > 0, got 0.0"),
        (("--k-nearest", "0"), "k_nearest must be a whole number >= 1, got 0"),
        (("--small-share", "1.5"), "small_share must be a finite number from 0 to 1 (a share of an offer's kg), got 1.5"),
        (("--max-subsidy-per-kg", "-1"), "max_subsidy_per_kg must be a finite number >= 0, got -1.0"),
    ],
)
def test_bad_parameters_exit_2(day: dict[str, Path], extra: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(day, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not day["out"].exists()


def test_bad_date_option_exits_2(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = args(day)
    bad[bad.index("--date") + 1] = "23/11/2026"
    with pytest.raises(SystemExit) as exit_info:
        main(bad)
    assert exit_info.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


@pytest.fixture
def orders_day(day: dict[str, Path]) -> dict[str, Path]:
    """The same day with orders instead of pooled demand: six orders in two regions, one far away."""
    orders = pl.DataFrame(
        {
            "order_id": ["b1", "b2", "b3", "b4", "b5", "b6"],
            "product": ["apple", "apple", "apple", "apple", "kale", "apple"],
            "min_grade": ["C", "C", "C", "B", "C", "C"],
            "quantity_kg": [30, 40, 500, 60, 20, 5],
            "lat": [30.2, 30.4, 30.3, 31.5, 31.2, 10.0],
            "lon": [110.1, 110.2, 110.3, 112.0, 112.2, 80.0],
            "max_price_per_kg": [3.02, 3.04, 3.0, 2.5, 4.0, 3.0],
            "due_date": [str(DATE.replace(day=28))] * 6,
            "created_at": ["2026-11-22T08:00", "2026-11-22T07:00", "", "2026-11-22T09:30", "2026-11-22T10:00", "2026-11-22T10:00"],
        }
    )
    day["orders"] = day["offers"].with_name("orders.csv")
    orders.write_csv(day["orders"])
    day["catalogue"] = day["offers"].with_name("products.csv")
    day["catalogue"].write_text("product\napple\nkale\n")
    return day


def order_args(day: dict[str, Path], *extra: str) -> list[str]:
    base = args(day)
    k = base.index("--demand")
    base[k : k + 2] = ["--orders", str(day["orders"])]
    return [*base, *extra]


def test_orders_are_pooled_matched_and_filled(orders_day: dict[str, Path]) -> None:
    assert main(order_args(orders_day, "--products", str(orders_day["catalogue"]), "--quiet")) == 0
    out = orders_day["out"]
    demand = pl.read_csv(out / "demand.csv")
    # b1, b2, b3 pool into one row of region r0 at tier 3.0 (b1 3.02 and b2 3.04 round down to it)
    row = demand.filter(pl.col("region_id") == "r0")
    assert row["quantity_kg"].to_list() == [570] and row["price_per_kg"].to_list() == [3.0]
    orders_out = pl.read_csv(out / "orders_out.csv")
    assert tuple(orders_out.columns) == ("order_id", "region_id", "demand_id", "filled_kg", "unfilled_kg", "clearing_price", "status", "reason")
    assert (orders_out["filled_kg"] + orders_out["unfilled_kg"] == pl.Series([30, 40, 500, 60, 20, 5])).all()
    b6 = orders_out.filter(pl.col("order_id") == "b6").row(0, named=True)
    assert b6["status"] == "rejected" and "outside every region" in b6["reason"]
    filled = dict(zip(orders_out["order_id"], orders_out["filled_kg"]))
    demand_out = pl.read_csv(out / "demand_out.csv")
    r0 = demand_out.filter(pl.col("demand_id") == row["demand_id"][0]).row(0, named=True)
    assert filled["b1"] + filled["b2"] + filled["b3"] == r0["filled_kg"]
    # 200 kg of apples cannot fill the 570 kg row: by default each order gets the same share (to the kg)
    got = r0["filled_kg"]
    assert 70 < got < 570
    for order, asked in (("b1", 30), ("b2", 40), ("b3", 500)):
        assert abs(filled[order] - got * asked / 570) < 1
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["orders"], summary["orders_rejected"]) == (6, 1)
    assert summary["params"]["fill_rule"] == "pro_rata"
    # first come, first served when asked: b2 (07:00) first, then b1 (08:00), b3 (no time) last
    assert main(order_args(orders_day, "--products", str(orders_day["catalogue"]), "--fill-rule", "fcfs", "--quiet")) == 0
    fcfs = dict(zip(*pl.read_csv(out / "orders_out.csv").select("order_id", "filled_kg").to_dict(as_series=False).values()))
    assert (fcfs["b2"], fcfs["b1"], fcfs["b3"]) == (40, 30, got - 70)


def test_an_order_outside_every_region_on_the_first_row_is_rejected(orders_day: dict[str, Path]) -> None:
    orders = pl.read_csv(orders_day["orders"], infer_schema=False)
    pl.concat([orders.tail(1), orders.head(5)]).write_csv(orders_day["orders"])  # b6, far away, first
    assert main(order_args(orders_day, "--quiet")) == 0
    orders_out = pl.read_csv(orders_day["out"] / "orders_out.csv")
    assert orders_out["order_id"].to_list() == ["b6", "b1", "b2", "b3", "b4", "b5"]
    b6 = orders_out.row(0, named=True)
    assert (b6["status"], b6["region_id"], b6["filled_kg"], b6["unfilled_kg"]) == ("rejected", None, 0, 5)
    assert "outside every region" in b6["reason"]


def test_pending_orders_fed_back_to_the_next_days_run_fill_what_is_left(orders_day: dict[str, Path]) -> None:
    """A platform running ``harvest match`` daily: the orders a day leaves ``pending`` go into the next
    day's run with ``quantity_kg = unfilled_kg`` (and their ``created_at``), and are filled there."""
    import datetime as dt

    assert main(order_args(orders_day, "--quiet")) == 0
    orders = pl.read_csv(orders_day["orders"], infer_schema=False)
    first = pl.read_csv(orders_day["out"] / "orders_out.csv")
    summary = json.loads((orders_day["out"] / "summary.json").read_text())
    # every order due after the day and not filled waits, whatever its reason; the rejected one does not
    assert summary["order_status"]["pending"] == first.filter(pl.col("status") == "pending").height >= 3
    assert first.filter(pl.col("order_id").is_in(["b1", "b2", "b3"]))["status"].to_list() == ["pending"] * 3
    assert first.filter(pl.col("order_id") == "b6")["status"].to_list() == ["rejected"]
    waiting = first.filter(pl.col("status") == "pending").select("order_id", "unfilled_kg")
    fed = orders.join(waiting, on="order_id").with_columns(quantity_kg=pl.col("unfilled_kg").cast(pl.String)).drop("unfilled_kg")
    fed.write_csv(orders_day["orders"])

    nextday = DATE + dt.timedelta(days=1)
    offers_frame([{"offer_id": "o9", "lat": 30.1, "lon": 110.1, "quantity_kg": 1000, "ready_date": nextday}]).write_csv(orders_day["offers"])
    second_args = order_args(orders_day, "--quiet")
    second_args[second_args.index("--date") + 1] = nextday.isoformat()
    assert main(second_args) == 0
    second = pl.read_csv(orders_day["out"] / "orders_out.csv")
    assert second["order_id"].to_list() == fed["order_id"].to_list()
    both = (
        orders.select("order_id", pl.col("quantity_kg").cast(pl.Int64))
        .join(first.select("order_id", pl.col("filled_kg").alias("first")), on="order_id")
        .join(second.select("order_id", pl.col("filled_kg").alias("second"), "unfilled_kg", "status"), on="order_id")
    )
    assert (both["first"] + both["second"] + both["unfilled_kg"] == both["quantity_kg"]).all()
    r0 = both.filter(pl.col("order_id").is_in(["b1", "b2", "b3"]))
    assert r0["status"].to_list() == ["filled"] * 3 and (r0["first"] + r0["second"] == r0["quantity_kg"]).all()
    assert (r0["first"] > 0).all()  # day one had filled part of each, pro rata


BAD_ORDERS = [
    ("bad-latitude", "lat", "-91", "orders.csv: row 1: column 'lat': expected a latitude in degrees from -90 to 90, got '-91'"),
    ("zero-kg", "quantity_kg", "0", "orders.csv: row 1: column 'quantity_kg': expected a whole number of kg greater than 0, got '0'"),
    ("unknown-product", "product", "durian", "orders.csv: row 1: column 'product': 'durian' is not a product in products.csv"),
    ("bad-created-at", "created_at", "yesterday", "orders.csv: row 1: column 'created_at': expected a date and time"),
]


@pytest.mark.parametrize(("column", "value", "message"), [pytest.param(c, v, m, id=n) for n, c, v, m in BAD_ORDERS])
def test_bad_orders_exit_2(orders_day: dict[str, Path], column: str, value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    _set("orders", column, value)(orders_day)
    assert main(order_args(orders_day, "--products", str(orders_day["catalogue"]))) == 2
    assert message in capsys.readouterr().err
    assert not orders_day["out"].exists()


def test_orders_missing_a_column_exit_2(orders_day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _edit_csv("orders", lambda f: f.drop("max_price_per_kg"))(orders_day)
    assert main(order_args(orders_day)) == 2
    assert "orders.csv: column 'max_price_per_kg': required column is missing" in capsys.readouterr().err
    assert not orders_day["out"].exists()


def _empty(day: dict[str, Path], name: str, suffix: str) -> None:
    """Keep the header of one input table, drop its rows; as CSV or as typed Parquet."""
    frame = pl.read_csv(day[name], infer_schema=False).clear()
    if suffix == ".parquet":
        schema = {"offers": OFFERS, "demand": DEMAND, "orders": ORDERS}[name]
        frame = parse_table(frame, schema, source=name)  # zero rows, every column typed (created_at too)
        day[name] = day[name].with_suffix(".parquet")
        frame.write_parquet(day[name])
    else:
        frame.write_csv(day[name])


EXPECTED_OUTPUTS = {
    "allocations.csv": ALLOCATION_COLUMNS,
    "offers_out.csv": OFFER_COLUMNS,
    "demand_out.csv": DEMAND_COLUMNS,
    "settlement.csv": SETTLEMENT_COLUMNS,
}
ORDER_OUTPUTS = {
    "demand.csv": ("demand_id", "region_id", "product", "min_grade", "quantity_kg", "price_per_kg", "due_date"),
    "orders_out.csv": ("order_id", "region_id", "demand_id", "filled_kg", "unfilled_kg", "clearing_price", "status", "reason"),
}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("empty", [("offers",), ("demand",), ("offers", "demand"), ("orders",), ("offers", "orders")], ids="+".join)
def test_empty_tables_sell_nothing_and_write_every_header(orders_day: dict[str, Path], empty: tuple[str, ...], suffix: str) -> None:
    for name in empty:
        _empty(orders_day, name, suffix)
    with_orders = "orders" in empty
    assert main(order_args(orders_day, "--quiet") if with_orders else args(orders_day, "--quiet")) == 0
    out = orders_day["out"]
    expected = {**EXPECTED_OUTPUTS, **(ORDER_OUTPUTS if with_orders else {})}
    assert sorted(p.name for p in out.iterdir()) == sorted([*expected, "summary.json"])
    for name, columns in expected.items():
        table = pl.read_csv(out / name)
        assert tuple(table.columns) == columns, name
        emptied = name.split("_")[0] in empty or (with_orders and name == "demand_out.csv")
        if name in ("allocations.csv", "demand.csv", "orders_out.csv") or emptied:
            assert table.height == 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["status"], summary["welfare"], summary["allocated_kg"]) == ("optimal", 0.0, 0)
    if with_orders:
        assert (summary["orders"], summary["pooled_demand_rows"], summary["order_status"]) == (0, 0, {})


def test_the_output_folder_holds_only_the_last_runs_files(orders_day: dict[str, Path]) -> None:
    assert main(order_args(orders_day, "--quiet")) == 0
    assert {"orders_out.csv", "demand.csv"} <= {p.name for p in orders_day["out"].iterdir()}
    assert main(args(orders_day, "--quiet")) == 0
    assert sorted(p.name for p in orders_day["out"].iterdir()) == sorted([*EXPECTED_OUTPUTS, "summary.json"])
    assert [p.name for p in orders_day["out"].parent.iterdir() if p.name.startswith(".out.")] == []


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda out: (out.mkdir(), (out / "notes.txt").write_text("mine")), "is not a previous output folder (it holds notes.txt)"),
        (lambda out: (out.mkdir(), (out / "photos").mkdir(), (out / "summary.json").write_text("{}")), "is not a previous output folder (it holds photos/)"),
        (lambda out: out.write_text("a file"), "exists and is not a folder"),
    ],
    ids=["a-file-of-the-user", "a-subfolder", "a-file-as-out"],
)
def test_a_folder_that_is_not_a_previous_output_is_not_replaced(
    day: dict[str, Path], prepare: Callable[[Path], object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = day["out"]
    prepare(out)
    before = sorted(out.rglob("*")) if out.is_dir() else out.read_text()
    assert main(args(day)) == 2
    err = capsys.readouterr().err
    assert f"error: {out}: {message}" in err
    assert (sorted(out.rglob("*")) if out.is_dir() else out.read_text()) == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")] == []


def test_empty_lane_cells_keep_the_computed_values(day: dict[str, Path]) -> None:
    _with_lanes("offer_id,region_id,distance_km,transit_days,cost_per_kg\no0,r0,10,,\no1,r1,700,3,\n")(day)
    assert main(args(day, "--lanes", str(day["lanes"]), "--quiet")) == 0
    lanes = pl.read_csv(day["out"] / "allocations.csv").select("offer_id", "distance_km", "transit_days", "cost_per_kg")
    # transit_days = ceil(km / 600), cost_per_kg = 0.0005 * km + 0.10 where the cell was empty
    assert lanes.rows() == [("o0", 10.0, 1, pytest.approx(0.105)), ("o1", 700.0, 3, pytest.approx(0.45))]


def test_an_unwritable_output_folder_is_one_line_not_a_traceback(day: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    blocker = day["out"].parent / "a-file"
    blocker.write_text("not a folder")
    day["out"] = blocker / "out"
    assert main(args(day)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
