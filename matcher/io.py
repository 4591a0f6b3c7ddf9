"""Files in and out: thin readers around the pure parsers, and an all-or-nothing writer that
replaces the output folder as a whole.

Tables are CSV or Parquet, chosen by extension. CSV is read with every column as text so that the
schema check, not the reader, decides what a bad cell is (and can name it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from harvestmatch.errors import InputError, ParameterError, Problem
from harvestmatch.money import publish

if TYPE_CHECKING:
    from matcher.params import MatchParams
    from matcher.schemas import Column

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_raw_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV (all columns as text) or Parquet file; raise InputError naming the file on failure."""
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(Problem(source, None, None, f"unknown table format {suffix or '(none)'!r}; expected .csv or .parquet"))
    if not path.is_file():
        raise InputError(Problem(source, None, None, f"no such file: {path}"))
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(Problem(source, None, None, f"cannot read as {suffix[1:]}: {first}")) from exc


def read_tables(
    specs: Sequence[tuple[str, str | Path | None, Sequence[Column], str | list[str] | None]],
    checks: Mapping[str, Callable[[pl.DataFrame, str], list[Problem]]] | None = None,
) -> tuple[dict[str, pl.DataFrame], list[Problem]]:
    """Read and type every table given, collecting every problem of every file instead of stopping at
    the first: ``specs`` are ``(key, path or None, schema, unique id column or None)``; ``checks[key]``,
    when given, looks at that table as read (before typing) and adds its own problems. Returns the typed
    tables by key (those that could be read) and the problems."""
    from matcher.schemas import parse_table

    tables: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
    for key, path, schema, id_column in specs:
        if path is None:
            continue
        source = Path(path).name
        try:
            raw = read_raw_table(path)
            if checks and key in checks:
                problems += checks[key](raw, source)
            tables[key] = parse_table(raw, schema, source=source, key=id_column)
        except InputError as exc:
            problems += exc.problems
    return tables, problems


def write_outputs(
    out_dir: str | Path,
    tables: Mapping[str, pl.DataFrame],
    summary: Callable[[], Mapping[str, Any]],
    texts: Mapping[str, str] | None = None,
    *,
    folders: Mapping[str, Folder] | None = None,
    replace: Callable[[Path, Path], None] = os.replace,
) -> list[Path]:
    """Write every table as CSV and ``summary.json`` as the whole of ``out_dir``, all or nothing.

    Money columns are written as published (:func:`harvestmatch.money.publish`: a price to 6 places,
    an amount to the cent); the summary keeps its numbers as computed.

    The files are written into a staging folder beside ``out_dir``; when all are complete, the
    previous folder is renamed aside, the staged one renamed into place, and the previous one
    removed. So the folder holds exactly this run's files (none left from a run with other inputs),
    and a failure at any step leaves the previous complete set. ``summary`` is called after the
    tables are written, so that it can report how long that took. ``folders`` are subfolders written
    in the same staging folder (a result's ``plan/``), so they land with the rest or not at all.
    ``replace`` renames the staged
    folder into place and, should that fail, the previous one back (a seam: tests make it fail).

    Raises
    ------
    InputError
        ``out_dir`` exists but does not look like a previous output folder (see
        :func:`output_folder_problems`); nothing is touched then.
    OSError
        The folder cannot be written; the previous one is left as it was.
    """
    out = Path(os.path.abspath(out_dir))  # "." has no name to stage beside; ".." is resolved, links are not
    _recover(out)
    problems = output_folder_problems(out, {**tables, **(texts or {})})
    if problems:
        raise InputError(problems)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_folder(out, "staging")
    try:
        for name, folder in (folders or {}).items():
            _write_files(staging / name, folder.tables, folder.texts, folder.summary)
        _write_files(staging, tables, texts or {}, summary())
        if out.exists():  # the new folder keeps the old one's permissions (a private folder stays private)
            staging.chmod(stat.S_IMODE(out.stat().st_mode))
        aside = _move_aside(out) if out.exists() else None
        try:
            replace(staging, out)
        except OSError:
            if aside is not None:
                replace(aside, out)  # should this fail too, the previous set stays whole in `aside`
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return [out / name for name in sorted([*tables, *(texts or {}), "summary.json"])]


@dataclass(frozen=True)
class Folder:
    """A subfolder of an output folder: its tables (CSV), texts and summary (``summary.json``)."""

    tables: Mapping[str, pl.DataFrame]
    summary: Mapping[str, Any]
    texts: Mapping[str, str] = field(default_factory=dict)


def _write_files(folder: Path, tables: Mapping[str, pl.DataFrame], texts: Mapping[str, str], summary: Mapping[str, Any]) -> None:
    """Tables as CSV (money at its published precision: prices 6 places, amounts 2; other floats, km
    and minutes, to 6), texts as they are, and ``summary.json``, into ``folder`` (made if absent)."""
    folder.mkdir(exist_ok=True)
    for name, frame in tables.items():
        publish(frame).write_csv(folder / name, float_precision=6)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")


#: every file ``harvest match`` writes; a folder holding anything else is not replaced
OUTPUT_NAMES = frozenset(
    {
        "allocations.csv",
        "offers_out.csv",
        "demand_out.csv",
        "demand.csv",
        "orders_out.csv",
        "settlement.csv",
        "summary.json",
        "routes.csv",
        "stops.csv",
        "unserved.csv",
        "routes.geojson",
    }
)


def output_folder_problems(out_dir: str | Path, tables: Mapping[str, object] | None = None) -> list[Problem]:
    """Why ``out_dir`` may not be replaced by a run's outputs (none: it is new, empty, or a previous
    run's output folder).

    Replacing a folder removes what it holds, so only a folder of nothing but output files
    (:data:`OUTPUT_NAMES` and the names of ``tables``) is replaced: pointing ``--out`` at a home
    folder or a project checkout is refused, not emptied.
    """
    out = Path(os.path.abspath(out_dir))
    source = str(out)
    if out.is_symlink():
        return [Problem(source, None, None, "is a symbolic link; give the output folder itself")]
    here = Path(os.path.abspath(os.getcwd()))
    if out == here or out in here.parents:
        # replacing it would leave the shell in a folder that no longer exists
        return [Problem(source, None, None, "is the current folder (or holds it); the output folder is replaced as a whole, so name a folder inside it")]
    if not out.exists():
        return []
    if not out.is_dir():
        return [Problem(source, None, None, "exists and is not a folder; give a new folder or a previous output folder")]
    known = OUTPUT_NAMES | set(tables or ())
    others = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if not (p.name in known and p.is_file()) and not _is_plan(p))
    if not others:
        return []
    listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return [
        Problem(
            source,
            None,
            None,
            f"is not a previous output folder (it holds {listed}); its contents would be replaced, so give a new or empty folder",
        )
    ]


#: the subfolder a result's transport plan is written to (harvest plan, harvest match --plan)
PLAN_FOLDER = "plan"


def _is_plan(path: Path) -> bool:
    """A result's plan folder (itself an output folder), or what a plan write killed midway left beside it."""
    if path.name.startswith(f".{PLAN_FOLDER}.staging-") or path.name.startswith(f".{PLAN_FOLDER}.previous-"):
        return path.is_dir() and not path.is_symlink()
    return path.name == PLAN_FOLDER and path.is_dir() and not path.is_symlink() and not output_folder_problems(path)


def _recover(out: Path) -> None:
    """A run killed between its two renames left no output folder, and the previous set aside: put the
    newest such set back, so that the folder is never found missing."""
    if out.exists() or out.is_symlink() or not out.parent.is_dir():
        return
    aside = sorted(out.parent.glob(f".{out.name}.previous-*"), key=lambda p: p.stat().st_mtime)
    if aside:
        os.replace(aside[-1], out)


def _move_aside(folder: Path) -> Path:
    """Rename ``folder`` to a new name beside it; return that name."""
    aside = _new_folder(folder, "previous")
    try:
        os.replace(folder, aside)  # a folder may take the name of an empty one (POSIX rename)
    except OSError:
        aside.rmdir()
        raise
    return aside


def _new_folder(beside: Path, kind: str) -> Path:
    """A new, empty folder beside ``beside`` with a name no one else uses; made with the usual
    permissions (``tempfile.mkdtemp`` would make it private, and it becomes the output folder)."""
    for _ in range(100):
        path = beside.with_name(f".{beside.name}.{kind}-{secrets.token_hex(4)}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free name for a {kind} folder beside {beside}")


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; ParameterError naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML: {exc}") from exc


def read_params(path: str | Path) -> MatchParams:
    """The cycle parameters of a TOML file (:meth:`MatchParams.from_config <matcher.params.MatchParams.from_config>`),
    errors naming the file."""
    from matcher.params import MatchParams

    return MatchParams.from_config(read_toml(path), source=str(path))
