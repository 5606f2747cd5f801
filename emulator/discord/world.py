"""The emulated world: its fixed ids, permissions and flags, and the records of what the bot did."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from emulator.discord.emulator import DiscordEmulator

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
# A server the bot is not a member of, and a group DM: only a user install reaches them.
OTHER_GUILD_ID = 1100000000000000400
ELSEWHERE_CHANNEL_ID = 1100000000000000401
ELSEWHERE_NSFW_CHANNEL_ID = 1100000000000000402
GROUP_DM_CHANNEL_ID = 1100000000000000410

# Installation types (a command's integration_types, the keys of an interaction's
# authorizing_integration_owners) and interaction contexts.
GUILD_INSTALL, USER_INSTALL = 0, 1
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2
# Where only the user install applies, Discord lets an app send this many follow-ups.
MAX_USER_INSTALL_FOLLOWUPS = 5

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
# What a user-installed app may do where the bot is not a member: answer, embed, attach.
USER_APP_PERMISSIONS = (1 << 11) | (1 << 14) | (1 << 15) | (1 << 18)
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
STRING_SELECT = 3
SELECT_TYPES = {STRING_SELECT, 5, 6, 7, 8}
OPTION_SUBCOMMAND, OPTION_GROUP = 1, 2
# Application command types: slash commands, and the user and message context menus.
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
GUILD_MEMBERS_INTENT = 1 << 1

# Discord's limits, checked so a bot exceeding them fails here as it would in production.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_FIELDS = 25
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_SELECT_OPTIONS = 25
MAX_SELECT_PLACEHOLDER = 150
MAX_OPTION_TEXT = 100  # an option's label, value and description
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
    type: int  # 0 guild text, 1 DM, 3 group DM
    guild_id: int | None = None
    nsfw: bool = False
    position: int = 0
    recipient: FakeUser | None = None  # DMs only
    members: tuple[FakeUser, ...] = ()  # group DMs only

    def payload(self) -> JSONDict:
        if self.type == 3:
            return {
                "id": str(self.id),
                "type": 3,
                "name": self.name,
                "icon": None,
                "owner_id": str(self.members[0].id),
                "recipients": [m.payload() for m in self.members],
                "last_message_id": None,
            }
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
                return predicate(copy.deepcopy(message))
            return not message["flags"] & FLAG_LOADING

        def newest() -> JSONDict | None:
            # Runs on every change the emulator sees, for every waiter: it reads the stored
            # payloads in place and copies only the one it returns (and what a caller's
            # predicate may touch), or concurrent waiters cost quadratic deep copies.
            stored = self._emu._messages
            ids = ([self.original_id] if self.original_id else []) + self.followup_ids
            candidates = [stored[i] for i in ids if i in stored and not stored[i].deleted]
            candidates = [s for s in candidates if check(s.payload)]
            if not candidates:
                return None
            return copy.deepcopy(max(candidates, key=lambda s: s.updated_at).payload)

        return await self._emu._wait(newest, timeout, f"a matching message for {self!r}")
