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
import copy
import json
import logging
import secrets
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000

# The world is fixed so ids in assertions and pasted dumps are stable between runs.
APPLICATION_ID = 1100000000000000001  # Discord gives a bot user the id of its application.
BOT_USER_ID = APPLICATION_ID
OWNER_ID = 1100000000000000011
ALICE_ID = 1100000000000000012
BOB_ID = 1100000000000000013
GUILD_ID = 1100000000000000100
GENERAL_CHANNEL_ID = 1100000000000000101
NSFW_CHANNEL_ID = 1100000000000000102
ADMIN_ROLE_ID = 1100000000000000110
BOT_ROLE_ID = 1100000000000000111
TEAM_ID = 1100000000000000200
DM_CHANNEL_ID_BASE = 1100000000000000300

# Permission bits used to build realistic member/app permissions.
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 31)  # use application commands
)
SEND_POLLS = 1 << 49
# Manage messages, threads, and polls (the README asks for Send Polls when inviting the bot).
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | (1 << 13) | (1 << 38) | SEND_POLLS

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
_SETTABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)

# Interaction types and callback types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
}
SELECT_TYPES = {3, 5, 6, 7, 8}
OPTION_SUBCOMMAND, OPTION_GROUP = 1, 2
GUILD_MEMBERS_INTENT = 1 << 1

# Discord's limits, checked so a bot exceeding them fails here as it would in production.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_FIELDS = 25
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_POLL_QUESTION = 300
MAX_POLL_ANSWER = 55
MAX_POLL_ANSWERS = 10
MAX_POLL_HOURS = 768  # 32 days


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py compares Content-Type to exactly "application/json"; web.json_response would
    # append "; charset=utf-8" and the client would then treat every reply as text.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _error_body(message: str, code: int, errors: JSONDict | None = None) -> JSONDict:
    body: JSONDict = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return body


class DiscordError(Exception):
    """Raised by handlers to answer with Discord's JSON error shape."""

    def __init__(self, status: int, message: str, code: int, errors: JSONDict | None = None):
        super().__init__(f"{status} {message} (code {code})")
        self.status = status
        self.body = _error_body(message, code, errors)


def _not_found(what: str, code: int) -> DiscordError:
    return DiscordError(404, f"Unknown {what}", code)


def _invalid_form(problems: Mapping[str, str]) -> DiscordError:
    errors = {
        key: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": text}]}
        for key, text in problems.items()
    }
    return DiscordError(400, "Invalid Form Body", 50035, errors)


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> JSONDict:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": None if self.bot else self.username.capitalize(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    type: int  # 0 guild text, 1 DM
    guild_id: int | None = None
    nsfw: bool = False
    position: int = 0
    recipient: FakeUser | None = None  # DMs only

    def payload(self) -> JSONDict:
        if self.type == 1:
            recipients = [self.recipient.payload()] if self.recipient else []
            return {
                "id": str(self.id),
                "type": 1,
                "recipients": recipients,
                "last_message_id": None,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "nsfw": self.nsfw,
            "topic": None,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "permission_overwrites": [],
            "last_message_id": None,
        }


@dataclass
class EmuEvent:
    """Anything observable that happened: a request, a gateway op, a callback, a message."""

    kind: str
    at: float
    data: JSONDict = field(default_factory=dict)


@dataclass
class CallbackEvent:
    """One ``POST /interactions/{id}/{token}/callback`` the bot made."""

    type: int
    data: JSONDict
    at: float
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return CALLBACK_NAMES.get(self.type, str(self.type))


@dataclass
class _StoredMessage:
    payload: JSONDict
    updated_at: float
    interaction_id: int | None = None
    deleted: bool = False


@dataclass
class _Upload:
    filename: str
    data: bytes
    content_type: str


@dataclass
class _Session:
    id: str
    seq: int = 0
    # Dispatches kept so a RESUME can replay what the client missed while disconnected.
    sent: deque[JSONDict] = field(default_factory=lambda: deque(maxlen=2000))


@dataclass(eq=False)  # identity semantics: connections live in a set
class _Connection:
    ws: web.WebSocketResponse
    number: int
    query: dict[str, str]
    session: _Session | None = None
    ready: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: JSONDict) -> bool:
        async with self.send_lock:
            if self.ws.closed:
                return False
            try:
                await self.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                return False
            return True


class InteractionRecord:
    """An interaction the emulator dispatched and everything the bot did in answer."""

    def __init__(self, emulator: DiscordEmulator, payload: JSONDict, created_at: float):
        self._emu = emulator
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.created_at = created_at
        self.responses: list[CallbackEvent] = []
        self.original_id: int | None = None
        self.followup_ids: list[int] = []
        self.rejected: list[JSONDict] = []  # error bodies the emulator answered to this token

    def __repr__(self) -> str:
        return f"<InteractionRecord id={self.id} type={self.type} responses={len(self.responses)}>"

    @property
    def name(self) -> str | None:
        return self.payload.get("data", {}).get("name")

    @property
    def first_response_latency(self) -> float | None:
        return self.responses[0].at - self.created_at if self.responses else None

    @property
    def ephemeral(self) -> bool:
        """True when the interaction's reply (original or first follow-up) is ephemeral."""
        for message in self.messages:
            return bool(message["flags"] & FLAG_EPHEMERAL)
        return False

    @property
    def original(self) -> JSONDict | None:
        return self._emu.get_message(self.original_id) if self.original_id else None

    @property
    def followups(self) -> list[JSONDict]:
        found = (self._emu.get_message(mid) for mid in self.followup_ids)
        return [message for message in found if message is not None]

    @property
    def messages(self) -> list[JSONDict]:
        """The original response (if any) then follow-ups, deleted ones left out."""
        original = self.original
        return ([original] if original else []) + self.followups

    async def first_response(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the API
    ) -> CallbackEvent:
        await self._emu._wait(lambda: bool(self.responses), timeout, f"a response to {self!r}")
        return self.responses[0]

    async def wait_message(
        self,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the API
    ) -> JSONDict:
        """The most recently created or edited message of this interaction matching
        ``predicate`` (default: any message that is not a "thinking…" placeholder)."""

        def check(message: JSONDict) -> bool:
            if predicate is not None:
                return predicate(message)
            return not message["flags"] & FLAG_LOADING

        def newest() -> JSONDict | None:
            candidates = [
                self._emu._messages[int(m["id"])] for m in self.messages if check(copy.deepcopy(m))
            ]
            if not candidates:
                return None
            return copy.deepcopy(max(candidates, key=lambda s: s.updated_at).payload)

        return await self._emu._wait(newest, timeout, f"a matching message for {self!r}")


class DiscordEmulator:
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
            "channels": [c.payload() for c in self.channels.values() if c.guild_id],
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

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if request.path.startswith(API_PREFIX):
            self._record("request", method=request.method, path=request.path[len(API_PREFIX) :])
        try:
            if self._needs_bot_auth(request):
                self._check_auth(request)
            return await handler(request)
        except DiscordError as exc:
            self.client_errors.append(
                {"method": request.method, "path": request.path, "status": exc.status, **exc.body}
            )
            self._record("client_error", status=exc.status, path=request.path, body=exc.body)
            return _json(exc.body, exc.status)
        except web.HTTPException:
            raise
        except Exception:
            # An emulator bug: surface it to tests and answer 400, not 5xx, because discord.py
            # retries 5xx with growing sleeps and the test would only see a slow timeout.
            text = traceback.format_exc()
            log.error("emulator error on %s %s\n%s", request.method, request.path, text)
            self.errors.append(f"{request.method} {request.path}: {text}")
            return _json(_error_body("emulator internal error", 0), 400)

    @staticmethod
    def _needs_bot_auth(request: web.Request) -> bool:
        path = request.path[len(API_PREFIX) :]
        if not request.path.startswith(API_PREFIX) or path == "/gateway":
            return False
        # Interaction callbacks and webhook calls are authorised by their token in the URL.
        return not path.startswith(("/interactions/", "/webhooks/"))

    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, "401: Unauthorized", 0)

    async def _unknown_route(self, request: web.Request) -> web.Response:
        raise DiscordError(404, "404: Not Found", 0)

    @staticmethod
    async def _read_json(request: web.Request) -> Any:
        try:
            return await request.json()
        except json.JSONDecodeError:
            raise DiscordError(400, "The request body contains invalid JSON.", 50109) from None

    async def _read_message_body(self, request: web.Request) -> tuple[JSONDict, list[_Upload]]:
        """A JSON body, or multipart with ``payload_json`` plus ``files[n]`` parts."""
        if not request.content_type.startswith("multipart/"):
            return await self._read_json(request), []
        payload: JSONDict | None = None
        files: dict[int, _Upload] = {}
        reader = await request.multipart()
        async for part in reader:
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(await part.text())
            elif name.startswith("files[") and name.endswith("]"):
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files[int(name[6:-1])] = _Upload(
                    part.filename or "file", bytes(await part.read()), content_type
                )
            else:
                raise _invalid_form({name: "unexpected multipart field"})
        if payload is None:
            raise _invalid_form({"payload_json": "missing"})
        return payload, [files[i] for i in sorted(files)]

    # ------------------------------------------------------------------ REST: identity

    async def _get_me(self, request: web.Request) -> web.Response:
        user = self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        return _json(user)

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(self.application_payload())

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # ------------------------------------------------------------------ REST: app commands

    def _scope(self, request: web.Request) -> tuple[str, int | None]:
        if int(request.match_info["app"]) != self.application_id:
            raise _not_found("Application", 10002)
        guild = request.match_info.get("guild")
        if guild is None:
            return "global", None
        if int(guild) != self.guild_id:
            raise DiscordError(403, "Missing Access", 50001)
        return guild, int(guild)

    async def _get_commands(self, request: web.Request) -> web.Response:
        _, guild_id = self._scope(request)
        stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id)
        return _json(stored or [])

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, guild_id = self._scope(request)
        body = await self._read_json(request)
        if not isinstance(body, list):
            raise _invalid_form({"_": "expected a list of commands"})
        problems = _validate_commands(body)
        if problems:
            raise _invalid_form(problems)
        version = str(self._snowflake())
        stored = []
        for command in body:
            ctype = command.get("type", 1)
            key = (scope, command["name"], ctype)
            # Discord keeps a command's id across bulk overwrites while its name stays.
            command_id = self._command_ids.setdefault(key, self._snowflake())
            entry = {
                "type": ctype,
                "default_member_permissions": None,
                "nsfw": False,
                "options": [],
                **command,
                "id": str(command_id),
                "application_id": str(self.application_id),
                "version": version,
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.sync_calls[scope] = self.sync_calls.get(scope, 0) + 1
        self._record("command_sync", scope=scope, names=[c["name"] for c in stored])
        return _json(stored)

    # ------------------------------------------------------------------ REST: interactions

    def _interaction_for(self, interaction_id: int, token: str) -> InteractionRecord:
        record = self.interactions.get(interaction_id)
        if record is None or record.token != token:
            raise _not_found("interaction", 10062)
        return record

    def _interaction_by_token(self, request: web.Request) -> InteractionRecord:
        if int(request.match_info["app"]) != self.application_id:
            raise _not_found("Webhook", 10015)
        token = request.match_info["token"]
        for record in self.interactions.values():
            if record.token == token:
                return record
        raise _not_found("Webhook", 10015)

    async def _callback(self, request: web.Request) -> web.Response:
        record = self._interaction_for(int(request.match_info["iid"]), request.match_info["token"])
        body, files = await self._read_message_body(request)
        now = time.monotonic()
        try:
            if record.responses:
                raise DiscordError(400, "Interaction has already been acknowledged.", 40060)
            if (
                self.response_deadline is not None
                and now - record.created_at > self.response_deadline
            ):
                raise _not_found("interaction", 10062)
            reply = self._apply_callback(record, body, files)
        except DiscordError as exc:
            record.rejected.append(exc.body)
            raise
        event = CallbackEvent(
            body["type"], body.get("data") or {}, now, [(f.filename, f.data) for f in files]
        )
        record.responses.append(event)
        self._record("callback", interaction_id=record.id, type=event.type, data=event.data)
        # discord.py always asks for ?with_response=1 and parses this shape; a 204 breaks it.
        return _json(reply)

    def _apply_callback(
        self, record: InteractionRecord, body: JSONDict, files: list[_Upload]
    ) -> JSONDict:
        ctype = body.get("type")
        data = body.get("data") or {}
        channel = self._interaction_channel(record)
        is_component = (
            record.type in (MESSAGE_COMPONENT, MODAL_SUBMIT) and "message" in record.payload
        )
        message: JSONDict | None = None
        loading = ephemeral = False
        if ctype == 1:
            if record.type != PING:
                raise _invalid_form({"type": "PONG is only valid for PING interactions"})
        elif ctype == 4:
            message = self._create_message(channel, data, files, record=record)
            record.original_id = int(message["id"])
        elif ctype == 5:
            # The "Bot is thinking…" placeholder that a later edit or follow-up replaces.
            flags = (data.get("flags", 0) & FLAG_EPHEMERAL) | FLAG_LOADING
            message = self._create_message(
                channel, {"content": "", "flags": flags}, [], record=record, allow_empty=True
            )
            record.original_id = int(message["id"])
            loading = True
        elif ctype in (6, 7):
            if not is_component:
                raise _invalid_form({"type": "only valid for component interactions"})
            record.original_id = int(record.payload["message"]["id"])
            if ctype == 7:
                message = self._edit_message(record.original_id, data, files)
        elif ctype == 8:
            if record.type != AUTOCOMPLETE:
                raise _invalid_form({"type": "autocomplete result for a non-autocomplete"})
            if len(data.get("choices", [])) > 25:
                raise _invalid_form({"data.choices": "Must be 25 or fewer in length."})
        elif ctype == 9:
            if record.type not in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
                raise _invalid_form({"type": "modal not allowed here"})
            for key in ("custom_id", "title", "components"):
                if not data.get(key):
                    raise _invalid_form({f"data.{key}": "This field is required"})
        else:
            raise _invalid_form({"type": f"unknown callback type {ctype!r}"})
        if message is not None:
            ephemeral = bool(message["flags"] & FLAG_EPHEMERAL)
        reply: JSONDict = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": str(record.original_id) if record.original_id else None,
                "response_message_loading": loading,
                "response_message_ephemeral": ephemeral,
            },
            "resource": {"type": ctype},
        }
        if message is not None:
            reply["resource"]["message"] = message
        return reply

    def _interaction_channel(self, record: InteractionRecord) -> FakeChannel:
        return self.channels[int(record.payload["channel"]["id"])]

    async def _followup(self, request: web.Request) -> web.Response:
        record = self._interaction_by_token(request)
        if not record.responses:
            raise _not_found("Webhook", 10015)  # follow-ups need an acknowledged interaction
        body, files = await self._read_message_body(request)
        original = self._messages.get(record.original_id or 0)
        if (
            original is not None
            and not original.deleted
            and original.payload["flags"] & FLAG_LOADING
        ):
            # Discord turns the first follow-up after a deferred reply into that reply: it
            # replaces the "thinking…" message and keeps the defer's ephemerality.
            body = {k: v for k, v in body.items() if k != "flags"}
            message = self._edit_message(record.original_id, body, files)
        else:
            message = self._create_message(
                self._interaction_channel(record), body, files, record=record
            )
            record.followup_ids.append(int(message["id"]))
        self._record("followup", interaction_id=record.id, message_id=message["id"])
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message)
        return web.Response(status=204)

    def _webhook_message_id(self, request: web.Request, record: InteractionRecord) -> int:
        mid = request.match_info["mid"]
        if mid == "@original":
            if record.original_id is None:
                raise _not_found("Message", 10008)
            return record.original_id
        message_id = int(mid)
        if message_id != record.original_id and message_id not in record.followup_ids:
            raise _not_found("Message", 10008)
        return message_id

    async def _webhook_get(self, request: web.Request) -> web.Response:
        record = self._interaction_by_token(request)
        return _json(self._require_message(self._webhook_message_id(request, record)))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        record = self._interaction_by_token(request)
        message_id = self._webhook_message_id(request, record)
        body, files = await self._read_message_body(request)
        return _json(self._edit_message(message_id, body, files))

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        record = self._interaction_by_token(request)
        self._delete_message(self._webhook_message_id(request, record))
        return web.Response(status=204)

    # ------------------------------------------------------------------ REST: channels

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.channels.get(int(request.match_info["cid"]))
        if channel is None:
            raise _not_found("Channel", 10003)
        return channel

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        payload = channel.payload()
        if channel.guild_id:
            payload["guild_id"] = str(channel.guild_id)
        return _json(payload)

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = await self._read_json(request)
        user = self._user_by_id(int(body.get("recipient_id", 0)))
        return _json(self.dm_channel(user).payload())

    async def _channel_send(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, files = await self._read_message_body(request)
        return _json(self._create_message(channel, body, files))

    def _channel_message_id(self, request: web.Request) -> int:
        channel = self._channel(request)
        message_id = int(request.match_info["mid"])
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted or int(stored.payload["channel_id"]) != channel.id:
            raise _not_found("Message", 10008)
        if stored.payload["flags"] & FLAG_EPHEMERAL:
            raise _not_found("Message", 10008)  # ephemeral messages exist only for the webhook
        return message_id

    async def _channel_get_message(self, request: web.Request) -> web.Response:
        return _json(self._require_message(self._channel_message_id(request)))

    async def _channel_edit(self, request: web.Request) -> web.Response:
        message_id = self._channel_message_id(request)
        body, files = await self._read_message_body(request)
        return _json(self._edit_message(message_id, body, files))

    async def _channel_delete(self, request: web.Request) -> web.Response:
        self._delete_message(self._channel_message_id(request))
        return web.Response(status=204)

    async def _attachment(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(int(request.match_info["attachment_id"]))
        if upload is None:
            raise _not_found("Attachment", 10008)
        return web.Response(body=upload.data, headers={"Content-Type": upload.content_type})

    # ------------------------------------------------------------------ message store

    def _require_message(self, message_id: int) -> JSONDict:
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted:
            raise _not_found("Message", 10008)
        return copy.deepcopy(stored.payload)

    def get_message(self, message_id: int | str) -> JSONDict | None:
        """A copy of a stored message as the bot last left it (None if unknown or deleted)."""
        stored = self._messages.get(int(message_id))
        return None if stored is None or stored.deleted else copy.deepcopy(stored.payload)

    @property
    def messages(self) -> list[JSONDict]:
        """Every live message the bot sent, oldest first."""
        return [copy.deepcopy(s.payload) for s in self._messages.values() if not s.deleted]

    def channel_messages(self, channel: FakeChannel | str) -> list[JSONDict]:
        channel_id = str(self._resolve_channel(channel).id)
        return [m for m in self.messages if m["channel_id"] == channel_id]

    def _attachments(
        self, channel: FakeChannel, body: JSONDict, files: list[_Upload], keep: list[JSONDict]
    ) -> list[JSONDict]:
        """Resolve ``attachments`` entries: numeric ids name uploaded ``files[n]`` parts,
        other ids refer to attachments the message already has."""
        existing = {a["id"]: a for a in keep}
        wanted = body.get("attachments")
        if wanted is None:
            # No explicit list: keep what the message has and add every uploaded file.
            wanted = keep + [{"id": i} for i in range(len(files))]
        result = []
        for entry in wanted:
            entry_id = str(entry.get("id"))
            if entry_id in existing:
                result.append(existing[entry_id])
                continue
            index = int(entry_id)
            if index >= len(files):
                raise _invalid_form({"attachments": f"no files[{index}] part for attachment"})
            upload = files[index]
            attachment_id = self._snowflake()
            self.uploads[attachment_id] = upload
            filename = entry.get("filename") or upload.filename
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{filename}"
            attachment = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
            }
            if entry.get("description"):
                attachment["description"] = entry["description"]
            result.append(attachment)
        return result

    def _create_message(
        self,
        channel: FakeChannel,
        body: JSONDict,
        files: list[_Upload],
        *,
        record: InteractionRecord | None = None,
        allow_empty: bool = False,
    ) -> JSONDict:
        message_id = self._snowflake()
        flags = int(body.get("flags") or 0)
        if flags & ~_SETTABLE_FLAGS & ~FLAG_LOADING:
            raise _invalid_form({"flags": f"flags {flags} cannot be set"})
        if flags & FLAG_EPHEMERAL and record is None:
            flags &= ~FLAG_EPHEMERAL  # only interaction replies can be ephemeral
        message: JSONDict = {
            "id": str(message_id),
            "type": 0,
            "channel_id": str(channel.id),
            "author": self.bot_user.payload(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": self._attachments(channel, body, files, []),
            "flags": flags,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
        }
        if channel.guild_id:
            message["guild_id"] = str(channel.guild_id)
        if "poll" in body:
            message["poll"] = self._poll(channel, body["poll"])
        if body.get("message_reference"):
            message["type"] = 19
            message["message_reference"] = body["message_reference"]
        if record is not None:
            message["type"] = 20 if record.type == APPLICATION_COMMAND else 0
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(record.id),
                "type": record.type,
                "user": record.payload.get("member", record.payload).get("user"),
                "authorizing_integration_owners": record.payload["authorizing_integration_owners"],
            }
        if not allow_empty:
            _check_message(message)
        self._messages[message_id] = _StoredMessage(
            message, time.monotonic(), record.id if record else None
        )
        self._record("message_create", message_id=str(message_id), channel_id=str(channel.id))
        return copy.deepcopy(message)

    def _poll(self, channel: FakeChannel, poll: Any) -> JSONDict:
        """A poll as Discord stores it on the message (answer ids, expiry, empty results),
        refused like Discord when the bot lacks Send Polls in a server channel or the poll
        breaks Discord's limits."""
        if channel.guild_id and not self.permissions_of(self.bot_user) & SEND_POLLS:
            raise DiscordError(403, "Missing Permissions", 50013)
        problems: dict[str, str] = {}
        if not isinstance(poll, dict):
            raise _invalid_form({"poll": "must be an object"})
        question = (poll.get("question") or {}).get("text") or ""
        if not 1 <= len(question) <= MAX_POLL_QUESTION:
            problems["poll.question.text"] = f"must be 1-{MAX_POLL_QUESTION} characters"
        answers = poll.get("answers") or []
        if not 1 <= len(answers) <= MAX_POLL_ANSWERS:
            problems["poll.answers"] = f"must hold 1-{MAX_POLL_ANSWERS} answers"
        for i, answer in enumerate(answers):
            text = (answer.get("poll_media") or {}).get("text") or ""
            if not 1 <= len(text) <= MAX_POLL_ANSWER:
                problems[f"poll.answers.{i}.poll_media.text"] = (
                    f"must be 1-{MAX_POLL_ANSWER} characters"
                )
        hours = poll.get("duration", 24)
        if not isinstance(hours, int | float) or not 1 <= hours <= MAX_POLL_HOURS:
            problems["poll.duration"] = f"must be 1-{MAX_POLL_HOURS} hours"
        if problems:
            raise _invalid_form(problems)
        expiry = datetime.now(UTC) + timedelta(hours=hours)
        return {
            "question": {"text": question},
            "answers": [
                {"answer_id": i, "poll_media": answer["poll_media"]}
                for i, answer in enumerate(answers, start=1)
            ],
            "expiry": expiry.isoformat(),
            "allow_multiselect": bool(poll.get("allow_multiselect")),
            "layout_type": poll.get("layout_type", 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def _edit_message(self, message_id: int, body: JSONDict, files: list[_Upload]) -> JSONDict:
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted:
            raise _not_found("Message", 10008)
        message = copy.deepcopy(stored.payload)
        channel = self.channels[int(message["channel_id"])]
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] or ("" if key == "content" else [])
        if "flags" in body and body["flags"] is not None:
            # Only suppress-embeds and components-v2 can change after sending.
            changeable = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2
            message["flags"] = (message["flags"] & ~changeable) | (int(body["flags"]) & changeable)
        if "attachments" in body or files:
            message["attachments"] = self._attachments(channel, body, files, message["attachments"])
        if body.get("poll") is not None:
            # Only the follow-up that replaces a "thinking…" placeholder may bring a poll.
            if not message["flags"] & FLAG_LOADING:
                raise _invalid_form({"poll": "a poll can't be added by editing a message"})
            message["poll"] = self._poll(channel, body["poll"])
        message["flags"] &= ~FLAG_LOADING  # any edit replaces the "thinking…" placeholder
        message["edited_timestamp"] = _now_iso()
        _check_message(message)
        stored.payload = message
        stored.updated_at = time.monotonic()
        self._record("message_update", message_id=str(message_id), content=message["content"])
        return copy.deepcopy(message)

    def _delete_message(self, message_id: int) -> None:
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted:
            raise _not_found("Message", 10008)
        stored.deleted = True
        self._record("message_delete", message_id=str(message_id))

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connections += 1
        conn = _Connection(ws, self.gateway_connections, dict(request.query))
        self._connections.add(conn)
        self._record("gateway_connect", number=conn.number, query=conn.query)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            # Ends when either side closes the socket.
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_message(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        except Exception:
            text = traceback.format_exc()
            log.error("emulator gateway error\n%s", text)
            self.errors.append(f"gateway: {text}")
        finally:
            self._connections.discard(conn)
            if self._live is conn:
                self._live = None
            self._record("gateway_close", number=conn.number, code=ws.close_code)
        return ws

    async def _on_gateway_message(self, conn: _Connection, frame: JSONDict) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:  # heartbeat
            await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8:  # request guild members: everything fits in one chunk
            chunk = {
                "guild_id": str(self.guild_id),
                "members": [self.member_payload(u) for u in self.users.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            }
            await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)
        elif op in (3, 4):  # presence / voice state updates: accepted, nothing to model
            self._record("gateway_op", op=op, data=data)
        else:
            self._record("gateway_op", op=op, data=data)
            self.client_errors.append({"gateway_op": op, "message": "Unknown opcode", "code": 4001})
            await conn.ws.close(code=4001, message=b"Unknown opcode")

    async def _identify(self, conn: _Connection, data: JSONDict) -> None:
        if data.get("token") != self.token:
            self.client_errors.append({"gateway_op": 2, "message": "Authentication failed"})
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        session = _Session(secrets.token_hex(16))
        self._session = conn.session = session
        self._live = conn
        self._record("identify", intents=data.get("intents"), session_id=session.id)
        ready = {
            "v": 10,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            # discord.py reconnects to this URL, so it must be ours, not Discord's.
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
        }
        if data.get("shard"):
            ready["shard"] = data["shard"]
        await self._dispatch("READY", ready)
        await self._dispatch("GUILD_CREATE", self.guild_payload(data.get("intents", 0)))
        conn.ready = True
        self._changed()

    async def _resume(self, conn: _Connection, data: JSONDict) -> None:
        session = self._session
        if (
            data.get("token") != self.token
            or session is None
            or data.get("session_id") != session.id
        ):
            # Not resumable: op 9 with d=false makes discord.py identify afresh.
            self._record("invalid_session", session_id=data.get("session_id"))
            await conn.send({"op": 9, "d": False})
            return
        self.resume_count += 1
        conn.session, self._live = session, conn
        last_seen = data.get("seq") or 0
        missed = [frame for frame in session.sent if frame["s"] > last_seen]
        self._record("resume", session_id=session.id, seq=last_seen, replayed=len(missed))
        for frame in missed:
            await conn.send(frame)
        await self._dispatch("RESUMED", {})
        conn.ready = True
        self._changed()

    async def _dispatch(self, event: str, data: JSONDict) -> None:
        """Send a dispatch on the live session, or keep it for a RESUME to replay."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: is the bot connected?")
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        conn = self._live
        sent = conn is not None and conn.session is session and await conn.send(frame)
        self._record("dispatch", event=event, seq=session.seq, delivered=sent)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's socket the way a network blip would; 4000 lets discord.py resume."""
        conn = self._live
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        self._live = None
        conn.ready = False
        await conn.ws.close(code=code, message=b"emulator dropped the connection")

    # ------------------------------------------------------------------ test driver

    def add_user(self, username: str) -> FakeUser:
        """A new guild member (no roles), for tests that need many distinct people."""
        user = FakeUser(self._snowflake(), username)
        self.users[username] = user
        self.member_roles[user.id] = []
        return user

    def forge_buttons(self, message_id: int | str, custom_ids: Sequence[str]) -> None:
        """Make a stored message carry these buttons, as a forged client would claim it does."""
        row = [{"type": 2, "style": 2, "label": "x", "custom_id": cid} for cid in custom_ids]
        self._messages[int(message_id)].payload["components"] = [{"type": 1, "components": row}]

    def _resolve_user(self, user: FakeUser | str | int) -> FakeUser:
        if isinstance(user, FakeUser):
            return user
        if isinstance(user, str):
            return self.users[user]
        return self._user_by_id(user)

    def _resolve_channel(self, channel: FakeChannel | str | int) -> FakeChannel:
        if isinstance(channel, FakeChannel):
            return channel
        if isinstance(channel, int):
            return self.channels[channel]
        named = {"general": self.general, "nsfw": self.nsfw}
        if channel not in named:
            raise ValueError(f"unknown channel {channel!r}: use general, nsfw or dm")
        return named[channel]

    def _context_channel(self, channel: FakeChannel | str | int, user: FakeUser) -> FakeChannel:
        return self.dm_channel(user) if channel == "dm" else self._resolve_channel(channel)

    def _base_interaction(
        self, itype: int, data: JSONDict | None, user: FakeUser, channel: FakeChannel
    ) -> JSONDict:
        interaction_id = self._snowflake()
        payload: JSONDict = {
            "id": str(interaction_id),
            "type": itype,
            "token": f"emu-{interaction_id}-{secrets.token_urlsafe(16)}",
            "version": 1,
            "application_id": str(self.application_id),
            "attachment_size_limit": 10 * 1024**2,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "app_permissions": str(self._bot_permissions(channel)),
        }
        if data is not None:
            payload["data"] = data
        if channel.guild_id:
            payload.update(
                guild_id=str(channel.guild_id),
                guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(channel.id),
                channel=channel.payload() | {"guild_id": str(channel.guild_id)},
                member=self.member_payload(user, with_permissions=True),
                # Key "0" is the guild install; its value is the guild the command ran in.
                authorizing_integration_owners={"0": str(channel.guild_id)},
                context=0,
            )
        else:
            payload.update(
                channel_id=str(channel.id),
                channel=channel.payload(),
                user=user.payload(),
                authorizing_integration_owners={"0": "0"},  # "0": guild install, used in bot DM
                context=1,
            )
        return payload

    def _bot_permissions(self, channel: FakeChannel) -> int:
        if channel.guild_id is None:
            return EVERYONE_PERMISSIONS
        return self.permissions_of(self.bot_user)

    async def _send_interaction(self, payload: JSONDict) -> InteractionRecord:
        # A session is enough: while the bot is reconnecting the dispatch waits in the session
        # and is replayed on RESUME, as Discord does.
        if self._session is None:
            raise RuntimeError("the bot never identified: await emu.wait_until_ready() first")
        record = InteractionRecord(self, payload, time.monotonic())
        self.interactions[record.id] = record
        await self._dispatch("INTERACTION_CREATE", payload)
        return record

    def find_command(
        self, name: str, *, channel: FakeChannel, user: FakeUser, guild_scoped: bool | None = None
    ) -> JSONDict:
        """The synced schema a Discord client would use for ``name`` in ``channel``.

        Raises LookupError when Discord would not offer the command there (not synced,
        guild command in a DM, ``contexts``/``nsfw``/``default_member_permissions``)."""
        candidates: list[JSONDict] = []
        if guild_scoped is not False and channel.guild_id:
            candidates += self.guild_commands.get(channel.guild_id, [])
        if not guild_scoped:
            candidates += self.global_commands
        command = next((c for c in candidates if c["name"] == name and c["type"] == 1), None)
        if command is None:
            raise LookupError(f"/{name} is not synced for {channel.name}: {self._synced_names()}")
        in_guild = channel.guild_id is not None
        contexts = command.get("contexts")
        if contexts is not None and (0 if in_guild else 1) not in contexts:
            raise LookupError(f"/{name} is not offered in this context (contexts={contexts})")
        if not in_guild and command.get("dm_permission") is False:
            raise LookupError(f"/{name} is not offered in DMs (dm_permission=false)")
        if command.get("nsfw") and not channel.nsfw:
            raise LookupError(f"/{name} is age-restricted and #{channel.name} is not")
        required = command.get("default_member_permissions")
        if (
            in_guild
            and required is not None
            and (self.permissions_of(user) & int(required) != int(required))
        ):
            raise LookupError(f"{user.username} lacks permissions {required} for /{name}")
        return command

    def _synced_names(self) -> dict[str, list[str]]:
        names = {"global": [c["name"] for c in self.global_commands]}
        for guild_id, commands in self.guild_commands.items():
            names[str(guild_id)] = [c["name"] for c in commands]
        return names

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        channel: FakeChannel,
        user: FakeUser,
        guild_scoped: bool | None,
        focused: str | None = None,
    ) -> JSONDict:
        # "group sub" or "command sub" addresses subcommands, as the Discord client shows them.
        top, *path = name.split()
        command = self.find_command(top, channel=channel, user=user, guild_scoped=guild_scoped)
        resolved: JSONDict = {}
        schema_options = command.get("options", [])
        nested: list[JSONDict] = []
        holder = nested
        for part in path:
            sub = next((o for o in schema_options if o["name"] == part), None)
            if sub is None or sub["type"] not in (OPTION_SUBCOMMAND, OPTION_GROUP):
                raise LookupError(f"/{top} has no subcommand {part!r}")
            entry = {"name": part, "type": sub["type"], "options": []}
            holder.append(entry)
            holder = entry["options"]
            schema_options = sub.get("options", [])
        holder.extend(
            self._build_options(schema_options, dict(options or {}), resolved, channel, focused)
        )
        data: JSONDict = {"id": command["id"], "name": top, "type": 1, "options": nested}
        if command.get("guild_id"):
            # Without this the tree looks among global commands and nothing answers.
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _build_options(
        self,
        schema: list[JSONDict],
        given: dict[str, Any],
        resolved: JSONDict,
        channel: FakeChannel,
        focused: str | None,
    ) -> list[JSONDict]:
        by_name = {o["name"]: o for o in schema}
        unknown = set(given) - set(by_name)
        if unknown:
            raise KeyError(f"unknown options {sorted(unknown)}; the command has {sorted(by_name)}")
        built = []
        for option in schema:
            name = option["name"]
            if name not in given:
                if option.get("required") and name != focused:
                    raise ValueError(f"required option {name!r} missing")
                continue
            value = given[name]
            if name == focused:
                # Autocomplete sends what the user has typed so far, always as text.
                built.append(
                    {"name": name, "type": option["type"], "value": str(value), "focused": True}
                )
                continue
            built.append(
                {
                    "name": name,
                    "type": option["type"],
                    "value": self._option_value(option, value, resolved, channel),
                }
            )
        return built

    def _option_value(
        self, option: JSONDict, value: Any, resolved: JSONDict, channel: FakeChannel
    ) -> Any:
        kind = option["type"]
        if kind == 3:
            value = str(value)
        elif kind == 4:
            value = int(value)
        elif kind == 5:
            value = bool(value)
        elif kind == 10:
            value = float(value)
        elif kind in (6, 9):  # user, mentionable
            user = self._resolve_user(value)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if channel.guild_id:
                member = self.member_payload(user, with_permissions=True)
                del member["user"]
                resolved.setdefault("members", {})[str(user.id)] = member
            return str(user.id)
        elif kind == 7:
            target = self._resolve_channel(value)
            resolved.setdefault("channels", {})[str(target.id)] = target.payload() | {
                "permissions": str(ALL_PERMISSIONS)
            }
            return str(target.id)
        elif kind == 8:
            role = self.roles[int(value)]
            resolved.setdefault("roles", {})[role["id"]] = role
            return role["id"]
        elif kind == 11:  # attachment: pass (filename, bytes)
            filename, data = value
            attachment_id = self._snowflake()
            self.uploads[attachment_id] = _Upload(filename, data, "application/octet-stream")
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{filename}"
            resolved.setdefault("attachments", {})[str(attachment_id)] = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(data),
                "url": url,
                "proxy_url": url,
            }
            return str(attachment_id)
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not a choice of {option['name']!r}: {choices}")
        return value

    async def invoke(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
        guild_scoped: bool | None = None,
    ) -> InteractionRecord:
        """Run a synced slash command as ``user`` would from the Discord client.

        ``channel`` is "general", "nsfw", "dm" (the user's DM with the bot) or a FakeChannel.
        ``guild_scoped`` picks the guild-synced (True) or global (False) command; None prefers
        the guild one when both exist."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        data = self._command_data(name, options, channel=where, user=who, guild_scoped=guild_scoped)
        return await self._send_interaction(
            self._base_interaction(APPLICATION_COMMAND, data, who, where)
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
        guild_scoped: bool | None = None,
    ) -> InteractionRecord:
        """Ask for suggestions while ``focused`` is being typed; read them from the type-8
        response's ``data["choices"]``."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        data = self._command_data(
            name, options, channel=where, user=who, guild_scoped=guild_scoped, focused=focused
        )
        return await self._send_interaction(self._base_interaction(AUTOCOMPLETE, data, who, where))

    async def invoke_raw(
        self,
        data: JSONDict,
        *,
        interaction_type: int = APPLICATION_COMMAND,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
    ) -> InteractionRecord:
        """Dispatch an interaction with ``data`` as given, unchecked (fuzzing, unknown names)."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        return await self._send_interaction(
            self._base_interaction(interaction_type, data, who, where)
        )

    async def click(
        self,
        message: JSONDict | int | str,
        custom_id: str,
        *,
        user: FakeUser | str = "alice",
        values: Sequence[str] | None = None,
    ) -> InteractionRecord:
        """Press a button (or choose ``values`` in a select) on a message the bot sent.

        The interaction carries the message as currently stored, components exactly as the
        bot sent them: that is what DynamicItem and View.from_message parse."""
        message_id = int(message["id"]) if isinstance(message, dict) else int(message)
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted:
            raise LookupError(f"no message {message_id}")
        component = next(
            (c for c in iter_components(stored.payload) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            raise LookupError(f"message {message_id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        data: JSONDict = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in SELECT_TYPES:
            data["values"] = list(values or [])
        who = self._resolve_user(user)
        channel = self.channels[int(stored.payload["channel_id"])]
        if channel.type == 1:
            channel = self.dm_channel(who)
        payload = self._base_interaction(MESSAGE_COMPONENT, data, who, channel)
        payload["message"] = copy.deepcopy(stored.payload)
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        record: InteractionRecord,
        values: Mapping[str, str | Sequence[str]],
        *,
        user: FakeUser | str | None = None,
    ) -> InteractionRecord:
        """Submit the modal that ``record`` was answered with (callback type 9).

        ``values`` maps each input's custom_id to its text (or list of values for selects);
        inputs left out are sent empty."""
        modal = next((r.data for r in record.responses if r.type == 9), None)
        if modal is None:
            raise LookupError(f"{record!r} was not answered with a modal")

        def answered(component: JSONDict) -> JSONDict:
            answer = values.get(component.get("custom_id", ""), "")
            if component["type"] == 4:
                return {"type": 4, "custom_id": component["custom_id"], "value": answer}
            return {
                "type": component["type"],
                "custom_id": component["custom_id"],
                "values": list(answer),
            }

        rows = []
        for top in modal["components"]:
            if top["type"] == 1:
                rows.append({"type": 1, "components": [answered(c) for c in top["components"]]})
            elif top["type"] == 18:  # label wrapping one input
                rows.append({"type": 18, "component": answered(top["component"])})
        who = self._resolve_user(user) if user is not None else self._record_user(record)
        channel = self._interaction_channel(record)
        payload = self._base_interaction(
            MODAL_SUBMIT, {"custom_id": modal["custom_id"], "components": rows}, who, channel
        )
        if "message" in record.payload:
            payload["message"] = copy.deepcopy(record.payload["message"])
        return await self._send_interaction(payload)

    def _record_user(self, record: InteractionRecord) -> FakeUser:
        user = record.payload.get("member", record.payload)["user"]
        return self._user_by_id(int(user["id"]))


# ---------------------------------------------------------------------- validation


def _validate_commands(commands: list[JSONDict]) -> dict[str, str]:
    """The checks Discord applies to a bulk overwrite that a bot most plausibly trips."""
    problems: dict[str, str] = {}
    seen: set[tuple[str, int]] = set()
    for i, command in enumerate(commands):
        name = command.get("name", "")
        key = (name, command.get("type", 1))
        if key in seen:
            problems[f"{i}.name"] = f"duplicate command name {name!r}"
        seen.add(key)
        if command.get("type", 1) == 1:
            if not (1 <= len(name) <= 32) or name != name.lower() or " " in name:
                problems[f"{i}.name"] = f"invalid slash command name {name!r}"
            if not (1 <= len(command.get("description", "")) <= 100):
                problems[f"{i}.description"] = "must be 1-100 characters"
        problems.update(_validate_options(command.get("options", []), f"{i}.options"))
    return problems


def _validate_options(options: list[JSONDict], where: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if len(options) > 25:
        problems[where] = "Must be 25 or fewer in length."
    seen_optional = False
    for j, option in enumerate(options):
        path = f"{where}.{j}"
        if option["type"] in (OPTION_SUBCOMMAND, OPTION_GROUP):
            problems.update(_validate_options(option.get("options", []), f"{path}.options"))
        elif option.get("required"):
            if seen_optional:
                problems[path] = "required options must be placed before non-required options"
        else:
            seen_optional = True
        if len(option.get("choices") or []) > 25:
            problems[f"{path}.choices"] = "Must be 25 or fewer in length."
        if not (1 <= len(option.get("description", "")) <= 100):
            problems[f"{path}.description"] = "must be 1-100 characters"
    return problems


def _check_message(message: JSONDict) -> None:
    problems: dict[str, str] = {}
    if not (
        message["content"]
        or message["embeds"]
        or message["components"]
        or message["attachments"]
        or message.get("poll")
    ):
        raise DiscordError(400, "Cannot send an empty message", 50006)
    if len(message["content"]) > MAX_CONTENT:
        problems["content"] = f"Must be {MAX_CONTENT} or fewer in length."
    if len(message["embeds"]) > MAX_EMBEDS:
        problems["embeds"] = f"Must be {MAX_EMBEDS} or fewer in length."
    total = 0
    for i, embed in enumerate(message["embeds"]):
        for key, limit in EMBED_LIMITS.items():
            size = len(embed.get(key) or "")
            total += size
            if size > limit:
                problems[f"embeds.{i}.{key}"] = f"Must be {limit} or fewer in length."
        fields = embed.get("fields", [])
        if len(fields) > MAX_FIELDS:
            problems[f"embeds.{i}.fields"] = f"Must be {MAX_FIELDS} or fewer in length."
        for j, fld in enumerate(fields):
            total += len(fld.get("name", "")) + len(fld.get("value", ""))
            if not fld.get("name") or len(fld["name"]) > 256:
                problems[f"embeds.{i}.fields.{j}.name"] = "must be 1-256 characters"
            if not fld.get("value") or len(fld["value"]) > 1024:
                problems[f"embeds.{i}.fields.{j}.value"] = "must be 1-1024 characters"
        footer = (embed.get("footer") or {}).get("text", "")
        author = (embed.get("author") or {}).get("name", "")
        total += len(footer) + len(author)
        if len(footer) > 2048:
            problems[f"embeds.{i}.footer.text"] = "Must be 2048 or fewer in length."
        if len(author) > 256:
            problems[f"embeds.{i}.author.name"] = "Must be 256 or fewer in length."
    if total > MAX_EMBED_TOTAL:
        problems["embeds"] = f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
    for component in iter_components(message):
        custom_id = component.get("custom_id")
        if custom_id is not None and not (1 <= len(custom_id) <= MAX_CUSTOM_ID):
            problems["components"] = (
                f"custom_id must be 1-{MAX_CUSTOM_ID} characters: {custom_id!r}"
            )
        if component["type"] == 2 and len(component.get("label") or "") > MAX_BUTTON_LABEL:
            problems["components"] = f"button label over {MAX_BUTTON_LABEL} characters"
    if problems:
        raise _invalid_form(problems)


# ---------------------------------------------------------------------- reading messages


def iter_components(message: JSONDict) -> Iterator[JSONDict]:
    """Every component of a message, depth first (rows, containers, sections, accessories)."""
    stack = list(reversed(message.get("components", [])))
    while stack:
        component = stack.pop()
        yield component
        children = list(component.get("components", []))
        for key in ("accessory", "component"):
            if component.get(key):
                children.append(component[key])
        stack.extend(reversed(children))


def buttons(message: JSONDict) -> list[JSONDict]:
    """The message's buttons in display order: label, custom_id (or url), style, disabled."""
    return [
        {
            "label": c.get("label"),
            "custom_id": c.get("custom_id"),
            "url": c.get("url"),
            "style": c.get("style"),
            "disabled": bool(c.get("disabled")),
            "emoji": (c.get("emoji") or {}).get("name"),
        }
        for c in iter_components(message)
        if c["type"] == 2
    ]


def _render_button(button: JSONDict) -> str:
    label = button.get("label") or (button.get("emoji") or {}).get("name") or "?"
    target = button.get("url") or button.get("custom_id")
    disabled = " (disabled)" if button.get("disabled") else ""
    return f"[{label}]<{target}>{disabled}"


def render_message(message: JSONDict) -> str:
    """A readable text dump of a message, meant for reports and assertion messages."""
    flags = message.get("flags", 0)
    notes = [
        n for bit, n in ((FLAG_EPHEMERAL, "ephemeral"), (FLAG_LOADING, "thinking")) if flags & bit
    ]
    head = f"message {message['id']} in channel {message['channel_id']}"
    lines = [head + (f" ({', '.join(notes)})" if notes else "")]
    if message.get("content"):
        lines.append(f"content: {message['content']}")
    for i, embed in enumerate(message.get("embeds", [])):
        lines.append(f"embed {i + 1}:")
        if embed.get("author", {}).get("name"):
            lines.append(f"  author: {embed['author']['name']}")
        for key in ("title", "url", "description"):
            if embed.get(key):
                lines.append(f"  {key}: {embed[key]}")
        if embed.get("color") is not None:
            lines.append(f"  colour: #{embed['color']:06x}")
        for fld in embed.get("fields", []):
            inline = " (inline)" if fld.get("inline") else ""
            lines.append(f"  field {fld.get('name')}{inline}: {fld.get('value')}")
        for key in ("thumbnail", "image"):
            if (embed.get(key) or {}).get("url"):
                lines.append(f"  {key}: {embed[key]['url']}")
        if (embed.get("footer") or {}).get("text"):
            lines.append(f"  footer: {embed['footer']['text']}")
    for component in message.get("components", []):
        row = [
            c
            for c in iter_components({"components": [component]})
            if c["type"] in {2, *SELECT_TYPES}
        ]
        parts = [
            _render_button(c)
            if c["type"] == 2
            else f"<select {c.get('custom_id')}: {c.get('placeholder') or ''}>"
            for c in row
        ]
        if parts:
            lines.append("row: " + " ".join(parts))
    for attachment in message.get("attachments", []):
        lines.append(f"attachment: {attachment['filename']} ({attachment['size']} bytes)")
    if poll := message.get("poll"):
        lines.append(f"poll: {poll['question']['text']} (until {poll['expiry']})")
        for answer in poll["answers"]:
            lines.append(f"  answer {answer['answer_id']}: {answer['poll_media']['text']}")
    return "\n".join(lines)


def point_discord_at(api_base: str, gateway_url: str) -> Callable[[], None]:
    """Aim discord.py's class-level URLs at the emulator; returns a function restoring them.

    For the emulator's own tests only: the product sets these from its configuration."""
    import discord.gateway
    import discord.http
    import yarl

    previous = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = api_base
    # DEFAULT_GATEWAY is a yarl.URL: from_client calls .with_query on it.
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous

    return restore


__all__ = [
    "ALICE_ID",
    "APPLICATION_ID",
    "BOB_ID",
    "BOT_USER_ID",
    "FLAG_EPHEMERAL",
    "FLAG_LOADING",
    "GENERAL_CHANNEL_ID",
    "GUILD_ID",
    "NSFW_CHANNEL_ID",
    "OWNER_ID",
    "SEND_POLLS",
    "CallbackEvent",
    "DiscordEmulator",
    "DiscordError",
    "EmuEvent",
    "FakeChannel",
    "FakeUser",
    "InteractionRecord",
    "buttons",
    "iter_components",
    "point_discord_at",
    "render_message",
]
