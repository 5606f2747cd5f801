"""A local Discord emulator for end-to-end tests of the real discord.py client.

One aiohttp application on 127.0.0.1 serves both the REST API (under ``/api/v10``) and the
Gateway websocket (``/gateway``). The unmodified discord.py client is pointed at it through
``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``; tests then
drive the world from the user's side (``invoke``, ``click``, ``submit_modal``) and read back every
message the bot sent or edited.

Discord's behaviour is modelled where a bot could get it wrong and a test should notice: the
3-second deadline for the first interaction response, "already acknowledged" errors, message
limits (content, embeds, custom_id), unknown ids and routes answered with Discord's error shape,
commands invisible where their ``contexts``/``nsfw``/``default_member_permissions`` hide them.
See /work/shared/design/discord-emulator.md for the wire facts this relies on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulator.discord.driver import TestDriver
from emulator.discord.gateway import Gateway
from emulator.discord.messages import MessageStore
from emulator.discord.rest import RestRoutes
from emulator.discord.world import (
    ADMIN_ROLE_ID,
    ADMINISTRATOR,
    ALICE_ID,
    ALL_PERMISSIONS,
    API_PREFIX,
    APPLICATION_ID,
    BOB_ID,
    BOT_ROLE_ID,
    BOT_ROLE_PERMISSIONS,
    BOT_USER_ID,
    DISCORD_EPOCH_MS,
    DM_CHANNEL_ID_BASE,
    ELSEWHERE_CHANNEL_ID,
    ELSEWHERE_NSFW_CHANNEL_ID,
    EVERYONE_PERMISSIONS,
    GENERAL_CHANNEL_ID,
    GROUP_DM_CHANNEL_ID,
    GUILD_ID,
    GUILD_MEMBERS_INTENT,
    NSFW_CHANNEL_ID,
    OTHER_GUILD_ID,
    OWNER_ID,
    TEAM_ID,
    EmuEvent,
    FakeChannel,
    FakeUser,
    InteractionRecord,
    JSONDict,
    _Connection,
    _not_found,
    _Session,
    _StoredMessage,
    _Upload,
)

log = logging.getLogger(__name__)


class DiscordEmulator(RestRoutes, MessageStore, Gateway, TestDriver):
    """Discord's REST API and Gateway for one application, one guild and a few users."""

    def __init__(
        self,
        *,
        token: str = "emulator-token",
        team_owned: bool = False,
        heartbeat_interval_ms: int = 1000,
        response_deadline: float | None = 3.0,
        application_id: int = APPLICATION_ID,
    ):
        self.token = token
        self.team_owned = team_owned
        # A team-owned application's members: user id -> (role, membership_state), where
        # role is "admin", "developer" or "read_only" and state 1 is invited, 2 accepted.
        # Tests may change it before the bot starts.
        self.team_members: dict[int, tuple[str, int]] = {
            OWNER_ID: ("admin", 2),
            ALICE_ID: ("developer", 2),
            BOB_ID: ("read_only", 2),
        }
        self.heartbeat_interval_ms = heartbeat_interval_ms
        # Discord forgets an interaction whose first response comes later than 3 s.
        self.response_deadline = response_deadline

        self.application_id = application_id
        self.application_name = "Anime8 (emulated)"
        # Discord gives a bot user the id of its application.
        self.bot_user = FakeUser(application_id, "anime8", bot=True)
        self.owner = FakeUser(OWNER_ID, "owner")
        self.alice = FakeUser(ALICE_ID, "alice")
        self.bob = FakeUser(BOB_ID, "bob")
        self.users = {u.username: u for u in (self.bot_user, self.owner, self.alice, self.bob)}
        self.guild_id = GUILD_ID
        self.guild_name = "Anime8 Test Server"
        self.general = FakeChannel(GENERAL_CHANNEL_ID, "general", 0, GUILD_ID, position=0)
        self.nsfw = FakeChannel(NSFW_CHANNEL_ID, "nsfw", 0, GUILD_ID, nsfw=True, position=1)
        self.channels: dict[int, FakeChannel] = {c.id: c for c in (self.general, self.nsfw)}
        for index, user in enumerate((self.owner, self.alice, self.bob)):
            dm = FakeChannel(DM_CHANNEL_ID_BASE + index, f"dm-{user.username}", 1, recipient=user)
            self.channels[dm.id] = dm
        # Places only a user install reaches: a server without the bot, and a group DM.
        self.elsewhere = FakeChannel(ELSEWHERE_CHANNEL_ID, "elsewhere", 0, OTHER_GUILD_ID)
        self.elsewhere_nsfw = FakeChannel(
            ELSEWHERE_NSFW_CHANNEL_ID, "elsewhere-nsfw", 0, OTHER_GUILD_ID, nsfw=True, position=1
        )
        self.group_dm = FakeChannel(
            GROUP_DM_CHANNEL_ID, "group-dm", 3, members=(self.alice, self.bob, self.owner)
        )
        for channel in (self.elsewhere, self.elsewhere_nsfw, self.group_dm):
            self.channels[channel.id] = channel
        self.roles: dict[int, JSONDict] = {
            GUILD_ID: self._role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0),
            ADMIN_ROLE_ID: self._role(ADMIN_ROLE_ID, "Admin", ADMINISTRATOR, 2),
            BOT_ROLE_ID: self._role(BOT_ROLE_ID, "Anime8", BOT_ROLE_PERMISSIONS, 1, managed=True),
        }
        self.member_roles: dict[int, list[int]] = {
            OWNER_ID: [ADMIN_ROLE_ID],
            ALICE_ID: [],
            BOB_ID: [],
            BOT_USER_ID: [BOT_ROLE_ID],
        }

        # What the bot did, for tests to read.
        self.events: list[EmuEvent] = []
        self.errors: list[str] = []  # emulator-side exceptions: a fixture should assert empty
        self.client_errors: list[JSONDict] = []  # every 4xx answered (misuse by the bot)
        self.global_commands: list[JSONDict] = []
        self.guild_commands: dict[int, list[JSONDict]] = {}
        self.sync_calls: dict[str, int] = {}  # "global" or str(guild_id) -> PUT count
        self.interactions: dict[int, InteractionRecord] = {}
        self.uploads: dict[int, _Upload] = {}  # attachment id -> uploaded file
        self._messages: dict[int, _StoredMessage] = {}
        self._command_ids: dict[tuple[str, str, int], int] = {}

        # Gateway state.
        self.gateway_connections = 0
        # While set, the gateway refuses new connections (an outage); see Gateway._gateway.
        self.refuse_gateway = False
        self.identify_count = 0
        self.resume_count = 0
        self._session: _Session | None = None
        self._live: _Connection | None = None
        self._connections: set[_Connection] = set()

        self._last_snowflake = 0
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        api = web.RouteTableDef()
        routes = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("POST", "/interactions/{iid}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/webhooks/{app}/{token}/messages/{mid}", self._webhook_get),
            ("PATCH", "/webhooks/{app}/{token}/messages/{mid}", self._webhook_edit),
            ("DELETE", "/webhooks/{app}/{token}/messages/{mid}", self._webhook_delete),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/channels/{cid}", self._get_channel),
            ("POST", "/channels/{cid}/messages", self._channel_send),
            ("GET", "/channels/{cid}/messages/{mid}", self._channel_get_message),
            ("PATCH", "/channels/{cid}/messages/{mid}", self._channel_edit),
            ("DELETE", "/channels/{cid}/messages/{mid}", self._channel_delete),
        ]
        for method, path, handler in routes:
            api.route(method, API_PREFIX + path)(handler)
        app.add_routes(api)
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)

        # A short shutdown timeout: close() must not hang on a client that never answers.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self._port = sockets[0].getsockname()[1]
        log.info("Discord emulator listening on %s", self.api_base)

    async def close(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"emulator shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    # ------------------------------------------------------------------ world payloads

    @staticmethod
    def _role(role_id: int, name: str, permissions: int, position: int, managed=False) -> JSONDict:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    def permissions_of(self, user: FakeUser) -> int:
        """Guild-level permissions (no channel overwrites exist in this world)."""
        if user.id == OWNER_ID:
            return ALL_PERMISSIONS
        value = EVERYONE_PERMISSIONS
        for role_id in self.member_roles.get(user.id, []):
            value |= int(self.roles[role_id]["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member_payload(self, user: FakeUser, *, with_permissions: bool = False) -> JSONDict:
        member: JSONDict = {
            "user": user.payload(),
            "roles": [str(r) for r in self.member_roles.get(user.id, [])],
            "flags": 0,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "pending": False,
            "deaf": False,
            "mute": False,
            "communication_disabled_until": None,
        }
        if with_permissions:
            member["permissions"] = str(self.permissions_of(user))
        return member

    def guild_payload(self, intents: int = 0) -> JSONDict:
        # Like Discord, list every member only to a bot with the GUILD_MEMBERS intent.
        shown = self.users.values() if intents & GUILD_MEMBERS_INTENT else [self.bot_user]
        members = [self.member_payload(u) for u in shown]
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(OWNER_ID),
            "unavailable": False,
            "large": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            # With GUILD_MEMBERS, member_count == len(members) marks the guild as chunked.
            "member_count": len(self.users),
            "members": members,
            "roles": list(self.roles.values()),
            "channels": [
                c.payload() for c in self.channels.values() if c.guild_id == self.guild_id
            ],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "system_channel_id": str(GENERAL_CHANNEL_ID),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "application_id": None,
            "vanity_url_code": None,
        }

    def application_payload(self) -> JSONDict:
        app: JSONDict = {
            "id": str(self.application_id),
            "name": self.application_name,
            "description": "Recommends anime and manga.",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.owner.payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "interactions_endpoint_url": None,
            "summary": "",
            "tags": [],
        }
        if self.team_owned:
            # Team-owned apps report a pseudo-user named after the team as the owner.
            app["owner"] = FakeUser(TEAM_ID, f"team{TEAM_ID}").payload()
            app["team"] = {
                "id": str(TEAM_ID),
                "name": "Anime8 Team",
                "icon": None,
                "owner_user_id": str(OWNER_ID),
                "members": [
                    {
                        "membership_state": state,
                        "team_id": str(TEAM_ID),
                        "permissions": ["*"],
                        "role": role,
                        "user": self._user_by_id(uid).payload(),
                    }
                    for uid, (role, state) in self.team_members.items()
                ],
            }
        return app

    def _user_by_id(self, user_id: int) -> FakeUser:
        for user in self.users.values():
            if user.id == user_id:
                return user
        raise _not_found("User", 10013)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient == user:
                return channel
        raise LookupError(f"no DM channel for {user.username}")

    # ------------------------------------------------------------------ events & waiting

    def _snowflake(self) -> int:
        # Time-based like Discord's ids, and strictly increasing so ordering by id works.
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(value, self._last_snowflake + 1)
        return self._last_snowflake

    def _record(self, kind: str, **data: Any) -> EmuEvent:
        event = EmuEvent(kind, time.monotonic(), data)
        self.events.append(event)
        self._changed()
        return event

    def _changed(self) -> None:
        # Wake every waiter; each re-checks its own condition.
        self._change.set()
        self._change = asyncio.Event()

    async def _wait(
        self,
        check: Callable[[], Any],
        timeout: float,  # noqa: ASYNC109 - a bounded wait is the API
        what: str,
    ) -> Any:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    change = self._change
                    result = check()
                    if result:
                        return result
                    await change.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None

    async def wait_for(
        self,
        predicate: Callable[[EmuEvent], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the API
        *,
        after: float = 0.0,
    ) -> EmuEvent:
        """The first recorded event (at or after monotonic time ``after``) matching
        ``predicate``, waiting for it if needed."""

        def find() -> EmuEvent | None:
            return next((e for e in self.events if e.at >= after and predicate(e)), None)

        return await self._wait(find, timeout, "a matching emulator event")

    def events_of(self, kind: str) -> list[EmuEvent]:
        return [e for e in self.events if e.kind == kind]

    async def wait_until_ready(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the API
    ) -> None:
        """Wait until a bot is connected, identified or resumed, and has its guild."""
        await self._wait(
            lambda: self._live is not None and self._live.ready, timeout, "the bot to connect"
        )
