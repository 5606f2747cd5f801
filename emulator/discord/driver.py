"""What tests do from the users' side: invoke, click, submit, wait."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.discord.reading import (
    iter_components,
)
from emulator.discord.world import (
    ALL_PERMISSIONS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHAT_INPUT,
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    EVERYONE_PERMISSIONS,
    GUILD_INSTALL,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    OPTION_GROUP,
    OPTION_SUBCOMMAND,
    SELECT_TYPES,
    STRING_SELECT,
    USER_APP_PERMISSIONS,
    USER_COMMAND,
    USER_INSTALL,
    FakeChannel,
    FakeUser,
    InteractionRecord,
    JSONDict,
    _Upload,
)


class TestDriver:
    """What tests do from the users' side: invoke, click, submit, wait.

    A part of DiscordEmulator (see emulator.py), which holds the state.
    """

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
        named = {
            "general": self.general,
            "nsfw": self.nsfw,
            "elsewhere": self.elsewhere,
            "elsewhere-nsfw": self.elsewhere_nsfw,
            "group-dm": self.group_dm,
        }
        if channel not in named:
            raise ValueError(f"unknown channel {channel!r}: use {', '.join(named)} or dm")
        return named[channel]

    def _context_channel(self, channel: FakeChannel | str | int, user: FakeUser) -> FakeChannel:
        return self.dm_channel(user) if channel == "dm" else self._resolve_channel(channel)

    def _context_of(self, channel: FakeChannel, user: FakeUser) -> int:
        if channel.guild_id:
            return CONTEXT_GUILD
        if channel.type == 1 and channel.recipient == user:
            return CONTEXT_BOT_DM
        return CONTEXT_PRIVATE_CHANNEL

    def _installs_here(self, channel: FakeChannel, user: FakeUser, install: str) -> JSONDict:
        """authorizing_integration_owners for ``install`` ("guild" or "user") in ``channel``.

        The guild install authorizes in the bot's own server and in its DMs (key "0", with
        "0" as the value in a DM); a user install authorizes anywhere (key "1": the user)."""
        in_bot_guild = channel.guild_id == self.guild_id
        in_bot_dm = self._context_of(channel, user) == CONTEXT_BOT_DM
        owners: JSONDict = {}
        if in_bot_guild or in_bot_dm:
            owners[str(GUILD_INSTALL)] = str(channel.guild_id or 0)
        if install == "user":
            owners[str(USER_INSTALL)] = str(user.id)
        elif install != "guild":
            raise ValueError(f"install must be 'guild' or 'user', not {install!r}")
        elif not owners:
            raise LookupError(f"the bot is not installed in #{channel.name}: use install='user'")
        return owners

    def _base_interaction(
        self,
        itype: int,
        data: JSONDict | None,
        user: FakeUser,
        channel: FakeChannel,
        install: str = "guild",
    ) -> JSONDict:
        owners = self._installs_here(channel, user, install)
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
        payload.update(
            channel_id=str(channel.id),
            authorizing_integration_owners=owners,
            context=self._context_of(channel, user),
        )
        if channel.guild_id:
            member = self.member_payload(user, with_permissions=True)
            if channel.guild_id != self.guild_id:
                # A server the bot is not in: the emulator knows no roles there.
                member |= {"roles": [], "permissions": str(EVERYONE_PERMISSIONS)}
            payload.update(
                guild_id=str(channel.guild_id),
                guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel=channel.payload() | {"guild_id": str(channel.guild_id)},
                member=member,
            )
        else:
            payload.update(channel=channel.payload(), user=user.payload())
        return payload

    def _bot_permissions(self, channel: FakeChannel) -> int:
        if channel.type == 3 or (channel.guild_id and channel.guild_id != self.guild_id):
            return USER_APP_PERMISSIONS
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
        self,
        name: str,
        *,
        channel: FakeChannel,
        user: FakeUser,
        guild_scoped: bool | None = None,
        install: str = "guild",
        command_type: int = CHAT_INPUT,
    ) -> JSONDict:
        """The synced schema a Discord client would use for ``name`` in ``channel`` (a slash
        command, or with ``command_type`` USER_COMMAND a user context menu), through the
        bot's server install (``install="guild"``) or the user's own (``"user"``).

        Raises LookupError when Discord would not offer the command there (not synced,
        guild command in a DM, ``integration_types``/``contexts``/``nsfw``/
        ``default_member_permissions``)."""
        candidates: list[JSONDict] = []
        if guild_scoped is not False and channel.guild_id:
            candidates += self.guild_commands.get(channel.guild_id, [])
        if not guild_scoped:
            candidates += self.global_commands
        command = next(
            (c for c in candidates if c["name"] == name and c["type"] == command_type), None
        )
        if command is None:
            raise LookupError(f"/{name} is not synced for {channel.name}: {self._synced_names()}")
        in_guild = channel.guild_id is not None
        # Discord's default for a command that names no installation type is the server one.
        installs = command.get("integration_types") or [GUILD_INSTALL]
        wanted = USER_INSTALL if install == "user" else GUILD_INSTALL
        if wanted not in installs:
            raise LookupError(f"/{name} is not offered to a {install} install ({installs})")
        contexts = command.get("contexts")
        if contexts is not None and self._context_of(channel, user) not in contexts:
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
        install: str = "guild",
    ) -> JSONDict:
        # "group sub" or "command sub" addresses subcommands, as the Discord client shows them.
        top, *path = name.split()
        command = self.find_command(
            top, channel=channel, user=user, guild_scoped=guild_scoped, install=install
        )
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
        install: str = "guild",
    ) -> InteractionRecord:
        """Run a synced slash command as ``user`` would from the Discord client.

        ``channel`` is "general", "nsfw", "dm" (the user's DM with the bot), "elsewhere",
        "elsewhere-nsfw" (a server without the bot), "group-dm" or a FakeChannel.
        ``guild_scoped`` picks the guild-synced (True) or global (False) command; None prefers
        the guild one when both exist. ``install="user"`` runs it through the user's own
        install of the app, the only one that reaches places the bot is not in."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        data = self._command_data(
            name, options, channel=where, user=who, guild_scoped=guild_scoped, install=install
        )
        return await self._send_interaction(
            self._base_interaction(APPLICATION_COMMAND, data, who, where, install)
        )

    async def invoke_user_command(
        self,
        name: str,
        target: FakeUser | str | int,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
        guild_scoped: bool | None = None,
        install: str = "guild",
    ) -> InteractionRecord:
        """Run a synced user context menu on ``target``, as ``user`` would by right-clicking
        them and choosing Apps → ``name`` (through ``install``, as for ``invoke``).

        As from Discord, ``data`` has the command's ``type`` 2, ``target_id``, and the target
        in ``resolved.users`` and, in a server, in ``resolved.members`` (without its ``user``)."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        command = self.find_command(
            name,
            channel=where,
            user=who,
            guild_scoped=guild_scoped,
            install=install,
            command_type=USER_COMMAND,
        )
        aimed = self._resolve_user(target)
        resolved: JSONDict = {"users": {str(aimed.id): aimed.payload()}}
        if where.guild_id and aimed.id in self.member_roles:
            member = self.member_payload(aimed, with_permissions=True)
            del member["user"]
            resolved["members"] = {str(aimed.id): member}
        data: JSONDict = {
            "id": command["id"],
            "name": name,
            "type": USER_COMMAND,
            "target_id": str(aimed.id),
            "resolved": resolved,
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._send_interaction(
            self._base_interaction(APPLICATION_COMMAND, data, who, where, install)
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
        install: str = "guild",
    ) -> InteractionRecord:
        """Ask for suggestions while ``focused`` is being typed; read them from the type-8
        response's ``data["choices"]``."""
        who = self._resolve_user(user)
        where = self._context_channel(channel, who)
        data = self._command_data(
            name,
            options,
            channel=where,
            user=who,
            guild_scoped=guild_scoped,
            focused=focused,
            install=install,
        )
        return await self._send_interaction(
            self._base_interaction(AUTOCOMPLETE, data, who, where, install)
        )

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
        forged: bool = False,
    ) -> InteractionRecord:
        """Press a button (or choose ``values`` in a select) on a message the bot sent.

        The interaction carries the message as currently stored, components exactly as the
        bot sent them: that is what DynamicItem and View.from_message parse. A string select
        takes only what the Discord client lets a person pick (its options' values, between
        min_values and max_values, each once); ``forged=True`` sends ``values`` as given, as a
        modified client could."""
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
            if component["type"] == STRING_SELECT and not forged:
                _check_choice(component, data["values"])
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is a button: it takes no values")
        who = self._resolve_user(user)
        channel = self.channels[int(stored.payload["channel_id"])]
        if channel.type == 1:
            channel = self.dm_channel(who)
        # A click is authorized by the install that sent the message.
        sent_by = (stored.payload.get("interaction_metadata") or {}).get(
            "authorizing_integration_owners", {}
        )
        install = "user" if str(USER_INSTALL) in sent_by else "guild"
        payload = self._base_interaction(MESSAGE_COMPONENT, data, who, channel, install)
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
        owners = record.payload["authorizing_integration_owners"]
        install = "user" if str(USER_INSTALL) in owners else "guild"
        data = {"custom_id": modal["custom_id"], "components": rows}
        payload = self._base_interaction(MODAL_SUBMIT, data, who, channel, install)
        if "message" in record.payload:
            payload["message"] = copy.deepcopy(record.payload["message"])
        return await self._send_interaction(payload)

    def _record_user(self, record: InteractionRecord) -> FakeUser:
        user = record.payload.get("member", record.payload)["user"]
        return self._user_by_id(int(user["id"]))


def _check_choice(select: JSONDict, values: list[str]) -> None:
    """Refuse a choice the Discord client cannot make in this string select."""
    offered = [option["value"] for option in select.get("options", [])]
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if not low <= len(values) <= high:
        raise ValueError(f"select {select['custom_id']!r} takes {low}-{high} values, not {values}")
    if len(set(values)) != len(values) or not set(values) <= set(offered):
        raise ValueError(f"{values} are not options of {select['custom_id']!r}: {offered}")
