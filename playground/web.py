"""The playground's web page and its JSON API, in front of the Discord emulator.

The page is a Discord client in miniature: it reads channels, members, synced commands and the
bot's messages from here, sends what a member does (a slash command, an autocomplete request,
a button press, a select choice) as interactions through the emulator, and receives every
message the bot creates, edits or deletes as server-sent events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.anilist import FakeData
from emulator.discord import DiscordEmulator

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
EVENT_KEEPALIVE_S = 15.0
AUTOCOMPLETE_TIMEOUT_S = 3.0
EXPECTED = {4: "a whole number", 5: "true or false", 10: "a number"}
MESSAGE_EVENTS = {"message_create", "message_update", "message_delete"}


class PlaygroundWeb:
    """Serves the page on 127.0.0.1; `status` is shown in its header ("starting", "warming
    up", "ready"); `demo` (the offline AniList's data) adds a hint and draws the covers."""

    def __init__(self, emulator: DiscordEmulator, *, demo: FakeData | None = None) -> None:
        self.emulator = emulator
        self.demo = demo
        self.status = "starting"
        # What each member typed, by interaction id, for the "alice used /recommend" line.
        self.typed: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int) -> None:
        """Listen on 127.0.0.1:`port` (0: any free port, then read `port`)."""
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR)
        app.router.add_get("/covers/{media_id:\\d+}.svg", self._cover)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/commands", self._commands)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/autocomplete", self._autocomplete)
        app.router.add_post("/api/click", self._click)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ reading

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def _state(self, _request: web.Request) -> web.Response:
        emu = self.emulator
        channels = [
            {
                "id": str(c.id),
                "name": c.name,
                "kind": "dm" if c.type == 1 else "text",
                "nsfw": c.nsfw,
                "recipient": c.recipient.username if c.recipient else None,
            }
            for c in emu.channels.values()
        ]
        members = [
            {
                "name": u.username,
                "id": str(u.id),
                "display": u.username.capitalize(),
                "owner": u.id == emu.owner.id,
            }
            for u in emu.users.values()
            if not u.bot
        ]
        body = {
            "status": self.status,
            "guild": emu.guild_name,
            "bot": {"name": emu.bot_user.username, "id": str(emu.bot_user.id)},
            "channels": channels,
            "members": members,
            "messages": [self._shown(m) for m in emu.messages],
            "demo_users": [u.name for u in self.demo.users.values()] if self.demo else None,
        }
        return _json(body)

    async def _commands(self, request: web.Request) -> web.Response:
        """The commands Discord's client would offer this member in this channel."""
        emu = self.emulator
        user = emu.users[request.query["user"]]
        channel = emu.channels[int(request.query["channel"])]
        names = {c["name"] for c in emu.global_commands if c["type"] == 1}
        for commands in emu.guild_commands.values():
            names |= {c["name"] for c in commands if c["type"] == 1}
        offered = []
        for name in sorted(names):
            try:
                offered.append(emu.find_command(name, channel=channel, user=user))
            except LookupError:
                continue
        return _json(offered)

    def _shown(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message plus what the page adds: what its member typed to get it."""
        meta = message.get("interaction_metadata") or {}
        return {"message": message, "typed": self.typed.get(meta.get("id", ""))}

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: every message created, edited or deleted from now on, and a
        "state" event when commands are synced or the status changes."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        emu = self.emulator
        seen = len(emu.events)
        status = self.status
        while True:

            def changed(seen: int = seen, status: str = status) -> bool:
                return len(emu.events) > seen or self.status != status

            try:
                # The emulator's own bounded wait, woken by every event it records.
                await emu._wait(changed, EVENT_KEEPALIVE_S, "a change for the page")
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            fresh, seen = emu.events[seen:], len(emu.events)
            frames = []
            for event in fresh:
                if event.kind in MESSAGE_EVENTS:
                    message_id = event.data["message_id"]
                    message = emu.get_message(message_id)
                    if message is None:
                        frames.append(("delete", {"id": message_id}))
                    else:
                        frames.append(("msg", self._shown(message)))
                elif event.kind == "command_sync":
                    frames.append(("state", {}))
            if self.status != status:
                status = self.status
                frames.append(("state", {}))
            for name, data in frames:
                await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    async def _cover(self, request: web.Request) -> web.Response:
        """A drawn cover for a demo title: its colour, its title in white."""
        media = (self.demo.media if self.demo else {}).get(int(request.match_info["media_id"]))
        if media is None:
            raise web.HTTPNotFound()
        colour = media["coverImage"]["color"]
        words = media["title"]["userPreferred"].split()
        lines: list[str] = []
        for word in words:
            if lines and len(lines[-1]) + len(word) < 11:
                lines[-1] += " " + word
            else:
                lines.append(word)
        text = "".join(
            f'<text x="50" y="{60 + 16 * i}" text-anchor="middle">{escape(line)}</text>'
            for i, line in enumerate(lines[:5])
        )
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="142" '
            'viewBox="0 0 100 142">'
            f'<rect width="100" height="142" fill="{colour}"/>'
            '<rect x="6" y="6" width="88" height="130" fill="none" stroke="#ffffff55"/>'
            '<g fill="#fff" font-family="sans-serif" font-size="12" font-weight="bold">'
            f"{text}</g></svg>"
        )
        return web.Response(text=svg, content_type="image/svg+xml")

    # ------------------------------------------------------------------ acting

    async def _command(self, request: web.Request) -> web.Response:
        """Run a slash command: {user, channel, name, options, typed}."""
        body = await request.json()
        emu = self.emulator

        async def run() -> None:
            user = emu.users[body["user"]]
            channel = emu.channels[int(body["channel"])]
            command = emu.find_command(body["name"], channel=channel, user=user)
            options = _typed_options(command, body.get("options") or {})
            record = await emu.invoke(body["name"], options, user=user, channel=channel)
            self.typed[str(record.id)] = body.get("typed") or f"/{body['name']}"

        return await _answer(run)

    async def _autocomplete(self, request: web.Request) -> web.Response:
        """Ask the bot for suggestions: {user, channel, name, options, focused}."""
        body = await request.json()
        emu = self.emulator
        choices: list[Any] = []

        async def run() -> None:
            user = emu.users[body["user"]]
            channel = emu.channels[int(body["channel"])]
            record = await emu.autocomplete(
                body["name"], body.get("options") or {}, body["focused"], user=user, channel=channel
            )
            response = await record.first_response(AUTOCOMPLETE_TIMEOUT_S)
            choices.extend(response.data.get("choices") or [])

        answer = await _answer(run)
        return _json(choices) if answer.status == 200 else answer

    async def _click(self, request: web.Request) -> web.Response:
        """Press a button or choose in a select: {user, message_id, custom_id, values}."""
        body = await request.json()

        async def run() -> None:
            await self.emulator.click(
                body["message_id"], body["custom_id"], user=body["user"], values=body.get("values")
            )

        return await _answer(run)


def _typed_options(command: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Option values as typed (text) turned into what each option's type takes, as Discord's
    client does before sending; raises ValueError with a sentence for the page."""
    kinds = {o["name"]: o for o in command.get("options", [])}
    typed: dict[str, Any] = {}
    for name, text in given.items():
        option = kinds.get(name)
        if option is None:
            raise ValueError(f"/{command['name']} has no option {name}.")
        kind, text = option["type"], str(text).strip()
        try:
            if kind == 4:
                typed[name] = int(text)
            elif kind == 10:
                typed[name] = float(text)
            elif kind == 5:
                typed[name] = {"true": True, "false": False}[text.lower()]
            else:
                typed[name] = text.lstrip("@") if kind in (6, 9) else text
        except (KeyError, ValueError):
            raise ValueError(f"{name} takes {EXPECTED[kind]}, not {text!r}.") from None
    return typed


async def _answer(action: Callable[[], Any]) -> web.Response:
    """Run a member's action; a refusal Discord's client would show comes back as
    {"error": sentence} with status 400."""
    try:
        await action()
    except (LookupError, ValueError) as error:
        text = error.args[0] if error.args else str(error)
        return _json({"error": str(text)}, status=400)
    except TimeoutError:
        return _json({"error": "The bot did not answer in time."}, status=504)
    return _json({"ok": True})


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")
