"""Reading the bot's messages back: components, buttons, selects, a text rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from emulator.discord.world import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    SELECT_TYPES,
    JSONDict,
)

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


def selects(message: JSONDict) -> list[JSONDict]:
    """The message's select menus in display order: custom_id, type, placeholder, bounds,
    disabled, and (string selects) options with their label, value and whether shown chosen."""
    return [
        {
            "custom_id": c.get("custom_id"),
            "type": c["type"],
            "placeholder": c.get("placeholder"),
            "min_values": c.get("min_values", 1),
            "max_values": c.get("max_values", 1),
            "disabled": bool(c.get("disabled")),
            "options": [
                {
                    "label": o.get("label"),
                    "value": o.get("value"),
                    "description": o.get("description"),
                    "default": bool(o.get("default")),
                }
                for o in c.get("options", [])
            ],
        }
        for c in iter_components(message)
        if c["type"] in SELECT_TYPES
    ]


def _render_select(select: JSONDict) -> str:
    options = ", ".join(
        f"*{o.get('label')}*" if o.get("default") else str(o.get("label"))
        for o in select.get("options", [])
    )
    shown = f" [{options}]" if options else ""
    return f"<select {select.get('custom_id')}: {select.get('placeholder') or ''}{shown}>"


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
        parts = [_render_button(c) if c["type"] == 2 else _render_select(c) for c in row]
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
