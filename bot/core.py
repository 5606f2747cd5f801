"""The Bot: owns every long-lived resource, opening each in setup_hook and closing it in close()."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal

import aiohttp
import discord
from discord.ext import commands

from bot.anilist import AniListClient
from bot.catalogue import CatalogueBuilder
from bot.config import Settings
from bot.discord_endpoints import apply_discord_endpoints
from bot.error_handler import Anime8CommandTree
from bot.media_store import MediaStore
from bot.rate_limit import RateLimiter
from bot.recommendations import RecommendationService
from bot.retention import Pruner
from bot.storage import Database
from bot.user_lists import UserListService

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.help",
    "cogs.recommend",
    "cogs.ratings",
    "cogs.accounts",
    "cogs.admin",
)
SYNC_HASH_KEY = "command_sync_hash"


class Anime8Bot(commands.Bot):
    db: Database
    http_session: aiohttp.ClientSession
    anilist: AniListClient
    media_store: MediaStore
    user_lists: UserListService
    recommendations: RecommendationService

    def __init__(self, settings: Settings, *, guild_ready_timeout: float = 2.0) -> None:
        super().__init__(
            # Slash commands only: the prefix can never match a real message.
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            tree_cls=Anime8CommandTree,
            help_command=None,
            owner_ids=set(settings.owner_ids) or None,
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.synced_commands = False
        self.failed_extensions: dict[str, BaseException] = {}
        self.catalogue_task: asyncio.Task | None = None

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        apply_discord_endpoints(self.settings.discord_api_base, self.settings.discord_gateway_url)
        await super().start(token, reconnect=reconnect)

    async def setup_hook(self) -> None:
        self.db = await Database.open(self.settings.database_path)
        self.http_session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), headers={"User-Agent": "Anime8 (unofficial)"}
        )
        settings = self.settings
        limiter = RateLimiter(settings.anilist_requests_per_minute)
        self.anilist = AniListClient(
            self.http_session,
            settings.anilist_api_url,
            limiter,
            timeout_s=settings.anilist_timeout_seconds,
        )
        self.media_store = MediaStore(self.db)
        self.user_lists = UserListService(self.anilist, self.db, settings.list_cache_minutes)
        self.recommendations = RecommendationService(
            settings, self.db, self.media_store, self.user_lists
        )
        await self.recommendations.rebuild_all()
        self.pruner = Pruner(self)
        self.pruner.start()
        if settings.build_catalogue:
            self.catalogue_task = asyncio.create_task(self._build_catalogue(), name="catalogue")
        await self._resolve_owners()
        for name in EXTENSIONS:
            try:
                await self.load_extension(name)
            except commands.ExtensionError as error:
                self.failed_extensions[name] = error
                log.exception("extension %s failed to load; the bot runs without it", name)
        await self.sync_commands_if_changed()

    async def _build_catalogue(self) -> None:
        builder = CatalogueBuilder(
            self.anilist,
            self.db,
            self.settings.catalogue_size,
            self.settings.catalogue_max_age_days,
        )
        try:
            await builder.run()
        except Exception:
            log.exception("catalogue build failed; recommending from what is stored")
        # The models were built at start-up from the catalogue as it was; only a changed one
        # is worth the rebuild.
        for media_type in sorted(builder.updated):
            await self.recommendations.refresh(media_type)

    async def _resolve_owners(self) -> None:
        """Fix the owner set once, so owner checks never wait on an API call.

        Of a team, as in discord.py's Bot.is_owner, only admins and developers count, and only
        once they accepted the invitation: read-only members and pending invitees are not owners.
        """
        if self.owner_ids:
            return
        app = await self.application_info()
        if app.team:
            self.owner_ids = {
                m.id
                for m in app.team.members
                if m.role in (discord.TeamMemberRole.admin, discord.TeamMemberRole.developer)
                and m.membership_state is discord.TeamMembershipState.accepted
            }
        else:
            self.owner_ids = {app.owner.id}

    def is_owner_id(self, user_id: int) -> bool:
        return user_id in (self.owner_ids or ())

    async def sync_commands_if_changed(self) -> bool:
        """Sync the command tree only when its schema or target changed since the last sync.

        Discord rate-limits syncs hard, so a restart with the same commands must not sync.
        """
        guild = (
            discord.Object(id=self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        )
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        schema = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        scope = f"guild:{guild.id}" if guild else "global"
        digest = hashlib.sha256(
            json.dumps({"scope": scope, "commands": schema}, sort_keys=True).encode()
        ).hexdigest()
        if await self.db.get_meta(SYNC_HASH_KEY) == digest:
            log.info("application commands unchanged; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        await self.db.set_meta(SYNC_HASH_KEY, digest)
        self.synced_commands = True
        log.info("synced %d application commands (%s)", len(synced), scope)
        return True

    async def close(self) -> None:
        await super().close()
        if pruner := getattr(self, "pruner", None):
            pruner.stop()
        if self.catalogue_task is not None:
            self.catalogue_task.cancel()
            await asyncio.gather(self.catalogue_task, return_exceptions=True)
        if service := getattr(self, "recommendations", None):
            await service.close()
        # The resources may be missing when login failed before setup_hook ran.
        if session := getattr(self, "http_session", None):
            await session.close()
        if db := getattr(self, "db", None):
            await db.close()


async def serve(bot: Anime8Bot, *, handle_signals: bool = False) -> None:
    """Run the bot until it is closed, by a signal when `handle_signals` is set."""
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda s=sig: _shutdown(bot, s))
    async with bot:
        await bot.start(bot.settings.discord_token)


def _shutdown(bot: Anime8Bot, sig: signal.Signals) -> None:
    log.info("received %s; closing the gateway, the database and the HTTP session", sig.name)
    asyncio.get_running_loop().create_task(bot.close())
