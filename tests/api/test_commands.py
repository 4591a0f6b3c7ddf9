"""The service's commands on SQLite and PostgreSQL: ``harvest db upgrade``, ``harvest keys create | list |
revoke``, and the default database in the data directory (never the source tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.cli import main


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HARVEST_DATABASE_URL", database_url)
    monkeypatch.setenv("HARVEST_DATA_DIR", str(tmp_path / "data"))
    return database_url


def test_keys_are_created_listed_and_revoked(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "newest schema" in capsys.readouterr().out
    assert main(["keys", "create", "--role", "buyer", "--buyer", "pickup-9", "--label", "front desk"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("hm_")
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "pickup-9" in listed and "front desk" in listed and key not in listed
    assert main(["keys", "revoke", "1"]) == 0
    assert main(["keys", "revoke", "1"]) == 2
    assert "already revoked" in capsys.readouterr().err
    assert main(["keys", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] != "-"  # the revoked column is filled


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["keys", "create", "--role", "buyer"], "needs --buyer"),
        (["keys", "create", "--role", "cooperative"], "needs --cooperative"),
        (["keys", "create", "--role", "planner", "--buyer", "x"], "only a buyer key"),
    ],
)
def test_bad_key_requests_say_why(env: str, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_the_default_database_lives_in_the_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.db import default_url

    monkeypatch.delenv("HARVEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("HARVEST_DATA_DIR", str(tmp_path / "somewhere"))
    assert default_url() == f"sqlite:///{tmp_path / 'somewhere' / 'harvest.db'}"
    monkeypatch.delenv("HARVEST_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_url() == f"sqlite:///{tmp_path / 'xdg' / 'harvestmatch' / 'harvest.db'}"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["worker", "--lease-seconds", "0", "--once"], "--lease-seconds must be a finite number > 0, got 0.0"),
        (["worker", "--max-attempts", "0", "--once"], "--max-attempts must be a whole number >= 1, got 0"),
    ],
)
def test_a_bad_worker_option_is_refused_before_any_database_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HARVEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("HARVEST_DATA_DIR", str(tmp_path / "data"))
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
