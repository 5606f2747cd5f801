"""Settings: read once, typed, and a bad value ends the program with one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_with_only_a_token():
    """Only DISCORD_TOKEN is required; everything else has the documented default."""
    settings = load_settings({"DISCORD_TOKEN": "t"}, env_file=None)
    assert settings.owner_ids == frozenset()
    assert settings.database_path == Path("data") / "anime8.db"
    assert settings.models_dir == Path("data") / "models"
    assert settings.anilist_api_url == "https://graphql.anilist.co"
    assert settings.discord_api_base is None and settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.list_retention_days == 90
    assert settings.metrics_port is None and settings.metrics_host == "127.0.0.1"
    assert settings.log_format == "text"


def test_every_documented_variable_is_read(tmp_path):
    """The contract names map onto the settings object."""
    settings = load_settings(
        {
            "DISCORD_TOKEN": "t",
            "OWNER_IDS": "1, 22 ,333",
            "DATA_DIR": str(tmp_path),
            "ANILIST_API_URL": "http://127.0.0.1:9/graphql/",
            "DISCORD_API_BASE": "http://127.0.0.1:8/api/v10",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8/gateway",
            "DEV_GUILD_ID": "42",
            "LOG_LEVEL": "debug",
            "LIST_RETENTION_DAYS": "30",
            "METRICS_PORT": "9108",
            "METRICS_HOST": "0.0.0.0",
            "LOG_FORMAT": "JSON",
        },
        env_file=None,
    )
    assert settings.owner_ids == {1, 22, 333}
    assert settings.database_path == tmp_path / "anime8.db"
    assert settings.anilist_api_url == "http://127.0.0.1:9/graphql"
    assert settings.discord_gateway_url == "ws://127.0.0.1:8/gateway"
    assert settings.dev_guild_id == 42
    assert settings.log_level == "DEBUG"
    assert settings.list_retention_days == 30
    assert settings.metrics_port == 9108 and settings.metrics_host == "0.0.0.0"
    assert settings.log_format == "json"


def test_environment_wins_over_dotenv(tmp_path):
    """.env fills gaps; a value already in the environment is kept."""
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nOWNER_IDS=7\n")
    settings = load_settings({"DISCORD_TOKEN": "from-env"}, env_file=env_file)
    assert settings.discord_token == "from-env"
    assert settings.owner_ids == {7}


def test_token_never_appears_in_repr():
    """Logging the settings object cannot leak the token."""
    settings = load_settings({"DISCORD_TOKEN": "very-secret-token"}, env_file=None)
    assert "very-secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "t", "OWNER_IDS": "abc"}, "OWNER_IDS"),
        ({"DISCORD_TOKEN": "t", "DEV_GUILD_ID": "12x"}, "DEV_GUILD_ID"),
        ({"DISCORD_TOKEN": "t", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_TOKEN": "t", "DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL"),
        ({"DISCORD_TOKEN": "t", "CATALOGUE_SIZE": "lots"}, "CATALOGUE_SIZE"),
        ({"DISCORD_TOKEN": "t", "LIST_RETENTION_DAYS": "0"}, "LIST_RETENTION_DAYS"),
        ({"DISCORD_TOKEN": "t", "METRICS_PORT": "70000"}, "METRICS_PORT"),
        ({"DISCORD_TOKEN": "t", "METRICS_PORT": "-1"}, "METRICS_PORT"),
        ({"DISCORD_TOKEN": "t", "METRICS_HOST": "http://x"}, "METRICS_HOST"),
        ({"DISCORD_TOKEN": "t", "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_bad_values_name_the_variable(env, names):
    """Each malformed setting raises ConfigError whose sentence names the variable."""
    with pytest.raises(ConfigError, match=names):
        load_settings(env, env_file=None)


@pytest.mark.parametrize(
    "extra", [{}, {"DISCORD_TOKEN": "t", "OWNER_IDS": "abc"}], ids=["no-token", "bad-owners"]
)
def test_main_exits_2_with_one_sentence(tmp_path, extra):
    """`python main.py` with a bad configuration prints one line, no traceback, exit 2."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "OWNER_IDS")}
    env.update(extra)
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py")],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anime8: ")
