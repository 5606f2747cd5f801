"""Discord's REST routes, as the emulator answers them."""

from __future__ import annotations

import json
import logging
import mimetypes
import time
import traceback
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulator.discord.validation import (
    _validate_commands,
)
from emulator.discord.world import (
    API_PREFIX,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    GUILD_INSTALL,
    MAX_USER_INSTALL_FOLLOWUPS,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    PING,
    CallbackEvent,
    DiscordError,
    FakeChannel,
    InteractionRecord,
    JSONDict,
    _error_body,
    _invalid_form,
    _json,
    _not_found,
    _Upload,
)

log = logging.getLogger(__name__)


class RestRoutes:
    """Discord's REST routes, as the emulator answers them.

    A part of DiscordEmulator (see emulator.py), which holds the state.
    """

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
                if content_type == "application/octet-stream":
                    # discord.py sends every file as octet-stream; Discord types it by its name.
                    guessed, _ = mimetypes.guess_type(part.filename or "")
                    content_type = guessed or content_type
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
                # Discord answers "" for context menus, which send none; discord.py reads it.
                "description": "",
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
            choices = data.get("choices", [])
            if len(choices) > 25:
                raise _invalid_form({"data.choices": "Must be 25 or fewer in length."})
            for i, choice in enumerate(choices):
                if not 1 <= len(choice.get("name") or "") <= 100:
                    raise _invalid_form({f"data.choices.{i}.name": "must be 1-100 characters"})
                value = choice.get("value")
                if isinstance(value, str) and len(value) > 100:
                    raise _invalid_form(
                        {f"data.choices.{i}.value": "Must be 100 or fewer in length."}
                    )
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
            owners = record.payload["authorizing_integration_owners"]
            if str(GUILD_INSTALL) not in owners and (
                len(record.followup_ids) >= MAX_USER_INSTALL_FOLLOWUPS
            ):
                raise DiscordError(
                    400, "This interaction has hit the maximum number of follow up messages", 40094
                )
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
        if channel.type == 3 or (channel.guild_id and channel.guild_id != self.guild_id):
            # A server the bot is not in, or a group DM: reachable only through interactions.
            raise DiscordError(403, "Missing Access", 50001)
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
