"""Messages the bot sent and edited, stored and checked against Discord's limits."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.discord.validation import (
    _check_message,
)
from emulator.discord.world import (
    _SETTABLE_FLAGS,
    APPLICATION_COMMAND,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    MAX_POLL_ANSWER,
    MAX_POLL_ANSWERS,
    MAX_POLL_HOURS,
    MAX_POLL_QUESTION,
    SEND_POLLS,
    DiscordError,
    FakeChannel,
    InteractionRecord,
    JSONDict,
    _invalid_form,
    _not_found,
    _now_iso,
    _StoredMessage,
    _Upload,
)


class MessageStore:
    """Messages the bot sent and edited, stored and checked against Discord's limits.

    A part of DiscordEmulator (see emulator.py), which holds the state.
    """

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
            command = record.payload.get("data") or {}
            is_command = record.type == APPLICATION_COMMAND
            # 20: a slash command's reply, 23: a context menu's.
            message["type"] = (23 if command.get("type", 1) != 1 else 20) if is_command else 0
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(record.id),
                "type": record.type,
                "user": record.payload.get("member", record.payload).get("user"),
                "authorizing_integration_owners": record.payload["authorizing_integration_owners"],
            }
            if is_command and command.get("target_id") and command.get("type") == 2:
                target = command["resolved"]["users"][command["target_id"]]
                message["interaction_metadata"]["target_user"] = target
        _link_attachment_images(message)
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
        _link_attachment_images(message)
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


def _link_attachment_images(message: JSONDict) -> None:
    """Point ``attachment://name`` embed images at that attachment, as Discord does; a name
    no attachment has leaves no image (Discord shows none)."""
    by_name = {a["filename"]: a for a in message["attachments"]}
    for embed in message["embeds"]:
        for key in ("image", "thumbnail"):
            url = (embed.get(key) or {}).get("url") or ""
            if not url.startswith("attachment://"):
                continue
            attachment = by_name.get(url.removeprefix("attachment://"))
            if attachment is None:
                del embed[key]
            else:
                embed[key] = {"url": attachment["url"], "proxy_url": attachment["proxy_url"]}
