from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from digest.config import Settings, load_settings, normalize_database_url, parse_duration
from digest.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_validate(tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, cwd=tmp_path)
    assert settings.newsletter.language == "de"
    assert settings.delivery.backend == "outbox"
    assert settings.ranking.window == timedelta(hours=24)
    assert settings.database_url == f"sqlite:///{tmp_path}/var/digest.db"
    assert settings.outbox_dir == tmp_path / "var" / "outbox"


def test_shipped_config_file_equals_the_defaults(tmp_path: Path) -> None:
    shipped = load_settings(ROOT / "config.yaml", environ={})
    defaults = load_settings(None, environ={}, cwd=ROOT)
    assert shipped.model_dump() == defaults.model_dump()


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_setting_is_documented_in_config_yaml_and_readme() -> None:
    config_lines = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in _leaf_keys(Settings):
        leaf = key.rsplit(".", 1)[-1]
        index = next(
            (i for i, line in enumerate(config_lines) if re.match(rf"\s*{leaf}:", line)), None
        )
        assert index is not None, f"{key} missing from config.yaml"
        assert config_lines[index - 1].strip().startswith("#"), (
            f"{key} has no comment in config.yaml"
        )
        assert f"`{key}`" in readme, f"{key} is not documented in README.md"


def test_env_overrides_nested_values_with_yaml_types(tmp_path: Path) -> None:
    env = {
        "DIGEST__RANKING__MAX_ITEMS": "7",
        "DIGEST__DELIVERY__SENDGRID__API_HOST": "http://127.0.0.1:9999",
        "DIGEST__RANKING__SOURCE_WEIGHTS": "{Techblick: 1.5}",
        "DIGEST__SCHEDULE__SEND_TIME": "07:45",
    }
    settings = load_settings(None, environ=env, cwd=tmp_path)
    assert settings.ranking.max_items == 7
    assert settings.delivery.sendgrid.api_host == "http://127.0.0.1:9999"
    assert settings.ranking.source_weights == {"Techblick": 1.5}
    assert settings.schedule.send_time == time(7, 45)
    assert "environment" in settings.source


def test_env_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ranking:\n  max_items: 5\n")
    settings = load_settings(path, environ={"DIGEST__RANKING__MAX_ITEMS": "9"})
    assert settings.ranking.max_items == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("newsletter:\n  languag: de\n", "newsletter.languag: unknown setting"),
        ("newsletter:\n  language: fr\n", "newsletter.language"),
        ("newsletter:\n  timezone: Mars/Base\n", "unknown time zone 'Mars/Base'"),
        ("schedule:\n  send_time: '25:00'\n", "schedule.send_time: expected HH:MM"),
        ("ranking:\n  window: soon\n", "ranking.window: expected a duration"),
        ("ranking:\n  max_items: 0\n", "ranking.max_items"),
        ("newsletter:\n  base_url: http://news.example.com\n", "must use https"),
        ("newsletter:\n  from_email: not-an-address\n", "newsletter.from_email"),
        ("delivery:\n  backend: carrier-pigeon\n", "delivery.backend"),
        ("- just\n- a list\n", "expected sections"),
        ("newsletter: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ={})
    assert message in str(info.value)
    assert "config.yaml" in str(info.value)


def test_unknown_env_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ranking\.max_itemz: unknown setting"):
        load_settings(None, environ={"DIGEST__RANKING__MAX_ITEMZ": "3"}, cwd=tmp_path)


def test_secrets_are_refused_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "delivery:\n  sendgrid:\n    api_key: SG.secret\n")
    with pytest.raises(ConfigError, match="secrets are read only from the environment"):
        load_settings(path, environ={})


def test_sendgrid_backend_needs_key_and_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY is not set"):
        load_settings(None, environ={"DIGEST__DELIVERY__BACKEND": "sendgrid"}, cwd=tmp_path)
    env: dict[str, Any] = {"DIGEST__DELIVERY__BACKEND": "sendgrid", "SENDGRID_API_KEY": "SG.x"}
    with pytest.raises(ConfigError, match="DIGEST_SECRET_KEY"):
        load_settings(None, environ=env, cwd=tmp_path)
    settings = load_settings(None, environ=env | {"DIGEST_SECRET_KEY": "s"}, cwd=tmp_path)
    assert settings.sendgrid_api_key == "SG.x"
    assert "SG.x" not in repr(settings)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    path = folder / "config.yaml"
    path.write_text("delivery:\n  outbox_dir: mail\ndatabase:\n  url: sqlite:///data/d.db\n")
    settings = load_settings(path, environ={})
    assert settings.outbox_dir == folder / "mail"
    assert settings.database_url == f"sqlite:///{folder}/data/d.db"


def test_database_url_normalization(tmp_path: Path) -> None:
    assert normalize_database_url("postgresql://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:////abs/x.db", tmp_path) == "sqlite:////abs/x.db"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        (3600, timedelta(hours=1)),
    ],
)
def test_durations(raw: object, expected: timedelta) -> None:
    assert parse_duration(raw) == expected


def test_unquoted_yaml_time_is_understood(tmp_path: Path) -> None:
    # YAML 1.1 reads 06:30 unquoted as the number 390.
    settings = load_settings(write(tmp_path, "schedule:\n  send_time: 06:30\n"), environ={})
    assert settings.schedule.send_time == time(6, 30)
