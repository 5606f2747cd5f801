"""The bot's settings: read once from the environment (and `.env`) into one typed object.

Nothing else in the project reads the environment. The variable names documented in the
README are a contract with the people who deploy the bot; keep them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

ANILIST_API_URL = "https://graphql.anilist.co"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DATABASE_FILE = "anime8.db"
LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one sentence for the operator."""


@dataclass(frozen=True, slots=True)
class Settings:
    # repr=False keeps the token out of logs and tracebacks that print the settings.
    discord_token: str = field(repr=False)
    owner_ids: frozenset[int] = frozenset()
    data_dir: Path = Path("data")
    anilist_api_url: str = ANILIST_API_URL
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    anilist_requests_per_minute: int = 30
    anilist_timeout_seconds: float = 20.0
    list_cache_minutes: float = 15.0
    catalogue_size: int = 5000
    catalogue_max_age_days: float = 7.0
    build_catalogue: bool = True
    recommend_cooldown_seconds: float = 10.0
    repeat_chance: float = 0.05
    training_timeout_minutes: float = 15.0
    auto_train: bool = True
    list_retention_days: float = 90.0
    backup_every_hours: float = 24.0
    backup_keep: int = 7
    metrics_port: int | None = None  # None: no health/metrics server; 0: any free port
    metrics_host: str = "127.0.0.1"
    log_format: str = "text"

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = ".env"
) -> Settings:
    """Build the settings from `environ` (default: the process environment) over `env_file`.

    Values already in the environment win over `.env`, as with python-dotenv's default.
    Raises ConfigError naming the variable and the fix.
    """
    env = _read_env(environ, env_file)
    token = env.get("DISCORD_TOKEN", "")
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: put your bot token in the environment or in .env "
            "(copy .env.example to .env and fill it in), or run `make playground` to try the "
            "bot in your browser without one."
        )
    log_level = env.get("LOG_LEVEL", "INFO").upper() or "INFO"
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}.")
    log_format = env.get("LOG_FORMAT", "").lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text or json, not {log_format!r}.")
    metrics_host = env.get("METRICS_HOST", "") or "127.0.0.1"
    if any(c.isspace() or c in "/[]" for c in metrics_host):
        raise ConfigError(
            f"METRICS_HOST must be an address to listen on, e.g. 127.0.0.1, not {metrics_host!r}."
        )

    return Settings(
        discord_token=token,
        owner_ids=_id_set(env, "OWNER_IDS"),
        data_dir=load_data_dir(env, env_file=None),
        anilist_api_url=_url(env, "ANILIST_API_URL", None, ("http://", "https://"))
        or ANILIST_API_URL,
        discord_api_base=_url(env, "DISCORD_API_BASE", None, ("http://", "https://")),
        discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", None, ("ws://", "wss://")),
        dev_guild_id=_snowflake(env, "DEV_GUILD_ID"),
        log_level=log_level,
        anilist_requests_per_minute=int(_number(env, "ANILIST_REQUESTS_PER_MINUTE", 30, 1, 90)),
        anilist_timeout_seconds=_number(env, "ANILIST_TIMEOUT_SECONDS", 20.0, 0.1, 120),
        list_cache_minutes=_number(env, "LIST_CACHE_MINUTES", 15.0, 0, 24 * 60),
        catalogue_size=int(_number(env, "CATALOGUE_SIZE", 5000, 0, 5000)),
        catalogue_max_age_days=_number(env, "CATALOGUE_MAX_AGE_DAYS", 7.0, 0, 365),
        build_catalogue=_flag(env, "BUILD_CATALOGUE", True),
        recommend_cooldown_seconds=_number(env, "RECOMMEND_COOLDOWN_SECONDS", 10.0, 0, 3600),
        repeat_chance=_number(env, "REPEAT_CHANCE", 0.05, 0, 1),
        training_timeout_minutes=_number(env, "TRAINING_TIMEOUT_MINUTES", 15.0, 0.05, 24 * 60),
        auto_train=_flag(env, "AUTO_TRAIN", True),
        list_retention_days=_number(env, "LIST_RETENTION_DAYS", 90.0, 1, 3650),
        backup_every_hours=_number(env, "BACKUP_EVERY_HOURS", 24.0, 0, 24 * 365),
        backup_keep=int(_number(env, "BACKUP_KEEP", 7, 1, 1000)),
        metrics_port=_port(env, "METRICS_PORT"),
        metrics_host=metrics_host,
        log_format=log_format,
    )


def load_data_dir(
    environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = ".env"
) -> Path:
    """DATA_DIR alone, read as load_settings reads it: for tools that run while the bot is
    stopped and need no token (python -m bot.restore)."""
    return Path(_read_env(environ, env_file).get("DATA_DIR") or "data")


def _read_env(
    environ: Mapping[str, str] | None, env_file: str | os.PathLike[str] | None
) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items()}


def _snowflake(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 20:
        raise ConfigError(f"{name} must be a Discord id (digits only, e.g. 123456789012345678).")
    return int(raw)


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(
            f"{name} must be a TCP port from 0 to 65535 (0: any free port), not {raw!r}."
        )
    return int(raw)


def _id_set(env: Mapping[str, str], name: str) -> frozenset[int]:
    parts = [p.strip() for p in env.get(name, "").split(",") if p.strip()]
    if any(not p.isdigit() or len(p) > 20 for p in parts):
        raise ConfigError(
            f"{name} must be a comma-separated list of Discord user ids "
            "(digits only, e.g. 123456789012345678,234567890123456789)."
        )
    return frozenset(int(p) for p in parts)


def _url(
    env: Mapping[str, str], name: str, default: str | None, schemes: tuple[str, ...]
) -> str | None:
    raw = env.get(name, "")
    if not raw:
        return default
    if not raw.startswith(schemes) or " " in raw:
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(schemes)}.")
    return raw.rstrip("/")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, not {raw!r}.")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")
