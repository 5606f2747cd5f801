"""The Bot: owns every long-lived resource, opening each in setup_hook and closing it in close()."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
import sys

import aiohttp
import discord
import torch
from discord import app_commands
from discord.ext import commands

from bot.anilist import AniListClient
from bot.anilist.catalogue_builder import CatalogueBuilder, CatalogueKeeper
from bot.anilist.rate_limit import RateLimiter
from bot.anilist.user_lists import UserListService
from bot.config import Settings
from bot.discord_endpoints import apply_discord_endpoints
from bot.error_handler import Anime8CommandTree
from bot.installs import EVERYWHERE_CONTEXTS, EVERYWHERE_INSTALLS
from bot.ops.interactions import finish
from bot.ops.metrics import Metrics
from bot.ops.server import OpsServer
from bot.services.backups import BackupKeeper
from bot.services.recommendations import RecommendationService
from bot.services.retention import Pruner
from bot.storage import Database, MemberSettingsStore
from bot.storage.lock import DataDirLock
from bot.storage.media import MediaStore

log = logging.getLogger(__name__)
RECANCEL_AFTER_S = 1.0

EXTENSIONS: tuple[str, ...] = (
    "cogs.help",
    "cogs.recommend",
    "cogs.watchparty",
    "cogs.similar",
    "cogs.ratings",
    "cogs.accounts",
    "cogs.settings",
    "cogs.admin",
    "cogs.profile",
)
# meta key + application id -> JSON {scope: digest of the commands synced there}
SYNC_KEY_PREFIX = "command_sync:"
# How long a thread may hold the GIL while another waits for it (see serve()).
LOOP_SWITCH_INTERVAL_S = 0.001


class Anime8Bot(commands.Bot):
    db: Database
    http_session: aiohttp.ClientSession
    anilist: AniListClient
    media_store: MediaStore
    member_settings: MemberSettingsStore
    user_lists: UserListService
    recommendations: RecommendationService
    backups: BackupKeeper
    data_dir_lock: DataDirLock

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
            # Members may install the app to their own account and use it anywhere.
            allowed_installs=EVERYWHERE_INSTALLS,
            allowed_contexts=EVERYWHERE_CONTEXTS,
        )
        self.settings = settings
        self.synced_commands = False
        self.failed_extensions: dict[str, BaseException] = {}
        self.catalogue: CatalogueKeeper | None = None
        # Health and metrics: only with METRICS_PORT; until then nothing is timed or counted.
        self.metrics: Metrics | None = None
        self.ops_server: OpsServer | None = None
        # Whether a gateway session is up: set on READY/RESUMED, cleared on every disconnect.
        self.gateway_connected = False

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        apply_discord_endpoints(self.settings.discord_api_base, self.settings.discord_gateway_url)
        await super().start(token, reconnect=reconnect)

    async def setup_hook(self) -> None:
        # Held while the bot runs, so a restore cannot swap the database under it.
        self.data_dir_lock = DataDirLock.acquire(self.settings.data_dir, exclusive=False)
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
        self.member_settings = await MemberSettingsStore.open(self.db)
        self.user_lists = UserListService(
            self.anilist, self.db, settings.list_cache_minutes, self.member_settings
        )
        self.recommendations = RecommendationService(
            settings, self.db, self.media_store, self.user_lists
        )
        # Nothing here waits for AniList or for a model build: the bot logs in at once, and
        # commands say "warming up" until the background builds are done.
        self.recommendations.start()
        self.pruner = Pruner(self)
        self.pruner.start()
        self.backups = BackupKeeper(
            settings.database_path,
            settings.backups_dir,
            settings.backup_every_hours,
            settings.backup_keep,
        )
        self.backups.start()
        if settings.build_catalogue:
            builder = CatalogueBuilder(
                self.anilist,
                self.db,
                settings.catalogue_size,
                settings.catalogue_max_age_days,
                on_batch=self.recommendations.models.catalogue_grew,
            )
            self.catalogue = CatalogueKeeper(builder)
            self.recommendations.catalogue_status = self.catalogue.status
            self.catalogue.start()
        if settings.metrics_port is not None:
            self.metrics = Metrics(self)
            self.ops_server = OpsServer(
                self, self.metrics, settings.metrics_host, settings.metrics_port
            )
            await self.ops_server.start()
        await self._resolve_owners()
        for name in EXTENSIONS:
            try:
                await self.load_extension(name)
            except commands.ExtensionError as error:
                self.failed_extensions[name] = error
                log.exception("extension %s failed to load; the bot runs without it", name)
        await self.sync_commands_if_changed()

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

    async def on_connect(self) -> None:
        self.gateway_connected = True

    async def on_resumed(self) -> None:
        self.gateway_connected = True

    async def on_disconnect(self) -> None:
        self.gateway_connected = False

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command | app_commands.ContextMenu,
    ) -> None:
        # The error path's counterpart is Anime8CommandTree.on_error.
        finish(interaction)

    def is_owner_id(self, user_id: int) -> bool:
        return user_id in (self.owner_ids or ())

    async def sync_commands_if_changed(self) -> bool:
        """Sync the command tree where it is missing or changed; clear the scope it left.

        Discord rate-limits syncs hard, so a restart with the same commands must not sync. What
        was synced is recorded per application id and scope: a DATA_DIR reused with another
        application, or a changed DEV_GUILD_ID, syncs again. Moving between global and a dev
        guild (or between guilds) empties the scope left, so no command shows twice.
        """
        guild = (
            discord.Object(id=self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        )
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        schema = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        scope = f"guild:{guild.id}" if guild else "global"
        digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
        app_id = self.application_id
        if app_id is None:  # set by login, which runs before setup_hook
            raise RuntimeError("syncing commands needs the application id")
        key = f"{SYNC_KEY_PREFIX}{app_id}"
        synced: dict[str, str] = json.loads(await self.db.get_meta(key) or "{}")
        for other in [s for s in synced if s != scope]:
            if other == "global":
                await self.http.bulk_upsert_global_commands(app_id, [])
            else:
                await self.http.bulk_upsert_guild_commands(app_id, int(other.split(":")[1]), [])
            del synced[other]
            await self.db.set_meta(key, json.dumps(synced))
            log.info("cleared application commands from %s", other)
        if synced.get(scope) == digest:
            log.info("application commands unchanged; not syncing")
            return False
        commands_synced = await self.tree.sync(guild=guild)
        synced[scope] = digest
        await self.db.set_meta(key, json.dumps(synced))
        self.synced_commands = True
        log.info("synced %d application commands (%s)", len(commands_synced), scope)
        return True

    async def close(self) -> None:
        await super().close()
        if self.ops_server is not None:
            await self.ops_server.close()
        if pruner := getattr(self, "pruner", None):
            pruner.stop()
        if backups := getattr(self, "backups", None):
            await backups.stop()
        if self.catalogue is not None:
            await self.catalogue.stop()
        if service := getattr(self, "recommendations", None):
            await service.close()
        # The resources may be missing when login failed before setup_hook ran.
        if session := getattr(self, "http_session", None):
            await session.close()
        if db := getattr(self, "db", None):
            await db.close()
        if lock := getattr(self, "data_dir_lock", None):
            lock.release()


async def serve(bot: Anime8Bot, *, handle_signals: bool = False) -> None:
    """Run the bot until it is closed, or until SIGINT/SIGTERM when `handle_signals` is set.

    A signal cancels whatever start-up or the gateway is doing (login, setup_hook, connecting)
    and then closes the bot, so it stops promptly in any state.
    """
    # Scoring threads hold the GIL between torch calls; the event loop, asking for it back
    # after each socket wait, then waits up to one switch interval (5 ms by default) each time.
    sys.setswitchinterval(LOOP_SWITCH_INTERVAL_S)
    # Requests are scored in parallel on the scoring threads, one core each; torch's own
    # intra-op threads on top would only make those threads, and the loop, fight for cores.
    torch.set_num_threads(1)
    async with bot:
        running = asyncio.create_task(bot.start(bot.settings.discord_token), name="anime8")
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, _stop, running, sig)
        try:
            await running
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # cancelled ourselves: pass it on
                raise


def _stop(running: asyncio.Task, sig: signal.Signals) -> None:
    log.info("received %s; closing the gateway, the database and the HTTP session", sig.name)
    _cancel_until_done(running)


def _cancel_until_done(task: asyncio.Task) -> None:
    """Cancel `task`, and again every RECANCEL_AFTER_S while it runs on. A cancellation that
    arrives while discord.py connects to the gateway can be lost there: the bot then logged
    the SIGTERM, connected anyway and ran on."""
    if not task.done():
        task.cancel()
        asyncio.get_running_loop().call_later(RECANCEL_AFTER_S, _cancel_until_done, task)
