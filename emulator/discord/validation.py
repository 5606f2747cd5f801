"""Discord's validation of what the bot sends: commands, options, messages."""

from __future__ import annotations

from emulator.discord.reading import (
    iter_components,
)
from emulator.discord.world import (
    EMBED_LIMITS,
    FLAG_COMPONENTS_V2,
    MAX_ACTION_ROWS,
    MAX_BUTTON_LABEL,
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_FIELDS,
    MAX_OPTION_TEXT,
    MAX_ROW_BUTTONS,
    MAX_SELECT_OPTIONS,
    MAX_SELECT_PLACEHOLDER,
    MESSAGE_COMMAND,
    OPTION_GROUP,
    OPTION_SUBCOMMAND,
    SELECT_TYPES,
    STRING_SELECT,
    USER_COMMAND,
    DiscordError,
    JSONDict,
    _invalid_form,
)

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
        if not set(command.get("integration_types") or []) <= {0, 1}:
            problems[f"{i}.integration_types"] = "values must be 0 (guild) or 1 (user)"
        if not set(command.get("contexts") or []) <= {0, 1, 2}:
            problems[f"{i}.contexts"] = "values must be 0, 1 or 2"
        if command.get("type", 1) == 1:
            if not (1 <= len(name) <= 32) or name != name.lower() or " " in name:
                problems[f"{i}.name"] = f"invalid slash command name {name!r}"
            if not (1 <= len(command.get("description", "")) <= 100):
                problems[f"{i}.description"] = "must be 1-100 characters"
        elif command.get("type") in (USER_COMMAND, MESSAGE_COMMAND):
            # Context menus may use capitals and spaces, but carry no description or options.
            if not (1 <= len(name) <= 32):
                problems[f"{i}.name"] = f"invalid context menu name {name!r}"
            if command.get("description"):
                problems[f"{i}.description"] = "must be empty for USER and MESSAGE commands"
            if command.get("options"):
                problems[f"{i}.options"] = "only CHAT_INPUT commands can have options"
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
    problems.update(_component_problems(message))
    if problems:
        raise _invalid_form(problems)


def _component_problems(message: JSONDict) -> dict[str, str]:
    """Discord's checks of a message's components: custom_ids, buttons, string selects, and
    (outside components v2) action rows of up to five buttons or exactly one select."""
    problems: dict[str, str] = {}
    if not message["flags"] & FLAG_COMPONENTS_V2:
        rows = message["components"]
        if len(rows) > MAX_ACTION_ROWS:
            problems["components"] = f"Must be {MAX_ACTION_ROWS} or fewer in length."
        for i, row in enumerate(rows):
            problems.update(_row_problems(row, f"components.{i}"))
    seen: set[str] = set()
    for component in iter_components(message):
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if not (1 <= len(custom_id) <= MAX_CUSTOM_ID):
                problems["components"] = (
                    f"custom_id must be 1-{MAX_CUSTOM_ID} characters: {custom_id!r}"
                )
            if custom_id in seen:
                problems["components"] = "Component custom id cannot be duplicated"
            seen.add(custom_id)
        if component["type"] == 2 and len(component.get("label") or "") > MAX_BUTTON_LABEL:
            problems["components"] = f"button label over {MAX_BUTTON_LABEL} characters"
        if component["type"] == STRING_SELECT:
            problems.update(_string_select_problems(component))
    return problems


def _row_problems(row: JSONDict, where: str) -> dict[str, str]:
    if row.get("type") != 1:
        return {where: "a message's top-level components must be action rows"}
    children = row.get("components") or []
    selects = [c for c in children if c.get("type") in SELECT_TYPES]
    if not children:
        return {f"{where}.components": "Must be 1 or more in length."}
    if selects and len(children) > 1:
        return {f"{where}.components": "a select menu must be alone in its action row"}
    if len(children) > MAX_ROW_BUTTONS:
        return {f"{where}.components": f"Must be {MAX_ROW_BUTTONS} or fewer in length."}
    return {}


def _string_select_problems(select: JSONDict) -> dict[str, str]:
    """A string select's options (1-25, texts up to 100, unique values) and its value bounds."""
    where = f"select {select.get('custom_id')!r}"
    problems: dict[str, str] = {}
    if not select.get("custom_id"):
        problems[f"{where}.custom_id"] = "This field is required"
    options = select.get("options") or []
    if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
        problems[f"{where}.options"] = f"must hold 1-{MAX_SELECT_OPTIONS} options"
    if len(select.get("placeholder") or "") > MAX_SELECT_PLACEHOLDER:
        problems[f"{where}.placeholder"] = f"Must be {MAX_SELECT_PLACEHOLDER} or fewer in length."
    values = []
    for j, option in enumerate(options):
        for key, required in (("label", True), ("value", True), ("description", False)):
            text = option.get(key) or ""
            if (required and not text) or len(text) > MAX_OPTION_TEXT:
                problems[f"{where}.options.{j}.{key}"] = f"must be 1-{MAX_OPTION_TEXT} characters"
        values.append(option.get("value"))
    if len(set(values)) != len(values):
        problems[f"{where}.options"] = "option values must be unique"
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if not 0 <= low <= MAX_SELECT_OPTIONS:
        problems[f"{where}.min_values"] = f"must be 0-{MAX_SELECT_OPTIONS}"
    if not 1 <= high <= MAX_SELECT_OPTIONS or high < low:
        problems[f"{where}.max_values"] = f"must be 1-{MAX_SELECT_OPTIONS} and at least min_values"
    elif high > len(options):
        problems[f"{where}.max_values"] = f"Must be less than or equal to {len(options)}."
    return problems
