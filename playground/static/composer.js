// The command box: "/name option:value option:value", with Discord-like suggestions for
// command names, option names, choices, members (user options) and the bot's autocomplete.
"use strict";

const OPTION_KINDS = { 3: "text", 4: "whole number", 5: "true or false", 6: "member", 7: "channel", 8: "role", 9: "member or role", 10: "number", 11: "file" };

// Splits what was typed into the command, the options given so far and the part being typed.
function parseCommand(text, commands) {
  const match = /^\/(\S*)(\s?)/.exec(text);
  if (!match) return null;
  const command = commands.find((c) => c.name === match[1]);
  if (!command || !match[2]) return { name: match[1], command: null };
  const names = (command.options || []).map((o) => o.name);
  const rest = text.slice(match[0].length);
  const options = {};
  let current = null;  // {name, value} of the option whose value is being typed
  let pending = rest;  // text after the last "name:", or all of it
  if (names.length) {
    const pattern = new RegExp(`(?:^|\\s)(${names.map((n) => n.replace(/[^\w-]/g, "")).join("|")}):`, "g");
    const found = [];
    let hit;
    while ((hit = pattern.exec(rest)) !== null) found.push({ name: hit[1], start: hit.index, end: pattern.lastIndex });
    found.forEach((part, index) => {
      const stop = index + 1 < found.length ? found[index + 1].start : rest.length;
      options[part.name] = rest.slice(part.end, stop).trim();
    });
    if (found.length) {
      const last = found[found.length - 1];
      const value = rest.slice(last.end);
      current = { name: last.name, value };
      // A space after a value that takes no spaces (a choice, a number) starts a new option.
      const option = command.options.find((o) => o.name === last.name);
      const takesSpaces = option.type === 3 && !(option.choices || []).length && !option.autocomplete;
      const space = value.lastIndexOf(" ");
      if (!takesSpaces && space >= 0 && value.trim()) {
        pending = value.slice(space + 1);
        current = null;
      } else {
        pending = null;
      }
    }
  }
  return { name: command.name, command, options, current, pending };
}

class Composer {
  constructor(app) {
    this.app = app;
    this.input = document.getElementById("command-input");
    this.list = document.getElementById("suggestions");
    this.error = document.getElementById("composer-error");
    this.items = [];
    this.highlight = 0;
    this.asked = 0;  // autocomplete requests sent, so a slow answer cannot replace a newer one
    this.input.addEventListener("input", () => this.suggest());
    this.input.addEventListener("focus", () => this.suggest());
    this.input.addEventListener("keydown", (event) => this.key(event));
    document.getElementById("composer").addEventListener("submit", (event) => event.preventDefault());
  }

  key(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.items.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.highlight = (this.highlight + step + this.items.length) % this.items.length;
      this.show(this.items);
    } else if (event.key === "Tab" || (event.key === "Enter" && this.items.length)) {
      if (!this.items.length) return;
      event.preventDefault();
      this.accept(this.items[this.highlight]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.send();
    } else if (event.key === "Escape") {
      this.show([]);
    }
  }

  accept(item) {
    this.input.value = item.insert;
    this.input.focus();
    this.suggest();
  }

  async suggest() {
    this.error.textContent = "";
    const text = this.input.value;
    const commands = this.app.commands;
    const parsed = parseCommand(text, commands);
    if (!parsed) return this.show([]);
    if (!parsed.command) {
      const items = commands
        .filter((c) => c.name.startsWith(parsed.name))
        .map((c) => ({ title: "/" + c.name, detail: c.description, insert: `/${c.name} ` }));
      return this.show(items);
    }
    const { command, current } = parsed;
    if (current) {
      const option = command.options.find((o) => o.name === current.name);
      const head = text.slice(0, text.length - current.value.length);
      const typed = current.value.trim().toLowerCase();
      if ((option.choices || []).length) {
        return this.show(option.choices
          .filter((c) => String(c.name).toLowerCase().includes(typed) || String(c.value).toLowerCase().startsWith(typed))
          .map((c) => ({ title: c.name, detail: "", insert: `${head}${c.value} ` })));
      }
      if (option.type === 5) {
        return this.show(["true", "false"].filter((v) => v.startsWith(typed))
          .map((v) => ({ title: v, detail: "", insert: `${head}${v} ` })));
      }
      if (option.type === 6 || option.type === 9) {
        return this.show(this.app.members
          .filter((m) => m.name.startsWith(typed.replace(/^@/, "")))
          .map((m) => ({ title: "@" + m.display, detail: m.name, insert: `${head}${m.name} ` })));
      }
      if (option.autocomplete) return this.autocomplete(parsed, head);
      const hint = `${option.name}: ${option.description} (${OPTION_KINDS[option.type] || "value"})`;
      return this.show([], hint);
    }
    const used = new Set(Object.keys(parsed.options));
    const typed = (parsed.pending || "").toLowerCase();
    const base = text.slice(0, text.length - (parsed.pending || "").length);
    const items = (command.options || [])
      .filter((o) => !used.has(o.name) && o.name.startsWith(typed))
      .map((o) => ({
        title: o.name + (o.required ? " *" : ""),
        detail: o.description,
        insert: `${base}${base.endsWith(" ") || !base ? "" : " "}${o.name}:`,
      }));
    return this.show(items, items.length ? "" : "Press Enter to send");
  }

  async autocomplete(parsed, head) {
    const ask = ++this.asked;
    const choices = await this.app.post("/api/autocomplete", {
      user: this.app.me.name, channel: this.app.channel, name: parsed.name,
      options: parsed.options, focused: parsed.current.name,
    });
    if (ask !== this.asked || !Array.isArray(choices)) return;
    this.show(choices.map((c) => ({ title: c.name, detail: "", insert: `${head}${c.value} ` })));
  }

  show(items, hint) {
    this.items = items;
    if (this.highlight >= items.length) this.highlight = 0;
    this.list.innerHTML = "";
    items.forEach((item, index) => {
      const row = el("li", "suggestion" + (index === this.highlight ? " active" : ""),
        `<span class="title">${escapeHtml(item.title)}</span><span class="detail">${escapeHtml(item.detail || "")}</span>`);
      row.addEventListener("mousedown", (event) => { event.preventDefault(); this.accept(item); });
      this.list.appendChild(row);
    });
    if (!items.length && hint) this.list.appendChild(el("li", "suggestion hint", escapeHtml(hint)));
    this.list.hidden = !this.list.children.length;
  }

  async send() {
    const text = this.input.value.trim();
    const parsed = parseCommand(text + " ", this.app.commands);
    if (!parsed || !parsed.command) {
      this.error.textContent = text ? "Pick one of the bot's commands: type / to see them." : "";
      return;
    }
    const answer = await this.app.post("/api/command", {
      user: this.app.me.name, channel: this.app.channel, name: parsed.name,
      options: parsed.options, typed: text,
    });
    if (answer && answer.error) {
      this.error.textContent = answer.error;
      return;
    }
    this.input.value = "";
    this.show([]);
  }
}
