// The page's state: who you are, where you are, the bot's messages; kept live by the
// server's event stream (/api/events) as the bot sends, edits and deletes messages.
"use strict";

const STATUS_TEXT = { starting: "Anime8 is starting…", "warming up": "Anime8 is online, warming up its model…", ready: "Anime8 is online" };

class Playground {
  constructor() {
    this.messages = new Map();  // id -> {message, typed}
    this.dismissed = new Set();
    this.commands = [];
    this.members = [];
    this.channels = [];
    this.me = null;
    this.channel = null;
    this.composer = new Composer(this);
  }

  async post(path, body) {
    try {
      const response = await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      return await response.json();
    } catch (error) {
      return { error: "The playground is not answering; is `make playground` still running?" };
    }
  }

  async start() {
    await this.loadState();
    const events = new EventSource("/api/events");
    events.addEventListener("msg", (event) => this.upsert(JSON.parse(event.data)));
    events.addEventListener("delete", (event) => {
      this.messages.delete(JSON.parse(event.data).id);
      this.renderMessages();
    });
    events.addEventListener("state", () => this.loadState());
    // After a reconnect (the playground restarted, or the laptop slept) start from the truth.
    events.addEventListener("open", () => this.loadState());
  }

  async loadState() {
    const state = await (await fetch("/api/state")).json();
    this.state = state;
    this.members = state.members;
    this.channels = state.channels;
    this.me = this.members.find((m) => this.me && m.name === this.me.name)
      || this.members.find((m) => m.name === "alice") || this.members[0];
    if (!this.channel) this.channel = this.channels.find((c) => c.kind === "text").id;
    this.messages = new Map(state.messages.map((shown) => [shown.message.id, shown]));
    document.getElementById("guild-name").textContent = state.guild;
    const status = document.getElementById("status");
    status.dataset.state = state.status;
    document.getElementById("status-text").textContent = STATUS_TEXT[state.status] || state.status;
    const hint = document.getElementById("hint");
    hint.textContent = state.demo_users
      ? `Offline demo: AniList is a made-up set of three dozen titles. Try /recommend preferences:cozy slice of life, or username:${state.demo_users.join(", username:")}.`
      : "";
    hint.hidden = !state.demo_users;
    this.renderAll();
    await this.loadCommands();
  }

  async loadCommands() {
    const query = new URLSearchParams({ user: this.me.name, channel: this.channel });
    this.commands = await (await fetch("/api/commands?" + query)).json();
  }

  upsert(shown) {
    this.messages.set(shown.message.id, shown);
    this.renderMessages();
  }

  dmOf(member) {
    return this.channels.find((c) => c.kind === "dm" && c.recipient === member.name);
  }

  renderAll() {
    const channels = document.getElementById("channels");
    channels.innerHTML = "";
    for (const channel of this.channels.filter((c) => c.kind === "text")) {
      const item = el("li", "channel" + (channel.id === this.channel ? " active" : ""),
        `<span class="hash">#</span>${escapeHtml(channel.name)}` + (channel.nsfw ? '<span class="age" title="Age-restricted channel">18+</span>' : ""));
      item.dataset.channelId = channel.id;
      item.addEventListener("click", () => this.go(channel.id));
      channels.appendChild(item);
    }
    const dms = document.getElementById("dms");
    dms.innerHTML = "";
    const dm = this.dmOf(this.me);
    if (dm) {
      const item = el("li", "channel dm" + (dm.id === this.channel ? " active" : ""),
        `<span class="avatar small">A8</span>${escapeHtml(this.state.bot.name)}`);
      item.dataset.channelId = dm.id;
      item.addEventListener("click", () => this.go(dm.id));
      dms.appendChild(item);
    }
    const list = document.getElementById("member-list");
    list.innerHTML = "";
    const bot = el("li", "member bot", `<span class="avatar small">A8</span><span class="name">${escapeHtml(this.state.bot.name)}</span><span class="app-tag">APP</span>`);
    list.appendChild(bot);
    for (const member of this.members) {
      const item = el("li", "member" + (member.name === this.me.name ? " active" : ""),
        `<span class="avatar small person">${escapeHtml(member.display[0])}</span><span class="name">${escapeHtml(member.display)}</span>` +
        (member.owner ? '<span class="crown" title="Server owner and the bot\'s owner">OWNER</span>' : "") +
        (member.name === this.me.name ? '<span class="you">you</span>' : ""));
      item.dataset.name = member.name;
      item.addEventListener("click", () => this.become(member.name));
      list.appendChild(item);
    }
    document.getElementById("me").innerHTML =
      `<span class="avatar small person">${escapeHtml(this.me.display[0])}</span><span>You are <strong>${escapeHtml(this.me.display)}</strong></span>`;
    const channel = this.channels.find((c) => c.id === this.channel);
    document.getElementById("channel-title").innerHTML = channel.kind === "dm"
      ? `<span class="avatar small">A8</span> ${escapeHtml(this.state.bot.name)}`
      : `<span class="hash">#</span> ${escapeHtml(channel.name)}` + (channel.nsfw ? ' <span class="age">18+ age-restricted</span>' : "");
    document.getElementById("command-input").placeholder = channel.kind === "dm"
      ? `Message @${this.state.bot.name}: type / to use its commands`
      : `Message #${channel.name}: type / to use the bot's commands`;
    this.renderMessages();
  }

  renderMessages() {
    const list = document.getElementById("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.innerHTML = "";
    const ctx = {
      botName: this.state.bot.name,
      memberName: (id) => (this.members.find((m) => m.id === id) || { display: "someone" }).display,
      click: (message, customId, values, node) => this.click(message, customId, values, node),
      dismiss: (id) => { this.dismissed.add(id); this.renderMessages(); },
    };
    const shown = [...this.messages.values()]
      .filter(({ message }) => message.channel_id === this.channel && this.visible(message))
      .sort((a, b) => (BigInt(a.message.id) < BigInt(b.message.id) ? -1 : 1));
    if (!shown.length) {
      list.appendChild(el("li", "empty", "No messages yet. Type <code>/</code> below to try a command."));
    }
    for (const item of shown) list.appendChild(renderMessage(item, ctx));
    if (atBottom || shown.length) list.scrollTop = list.scrollHeight;
  }

  // Ephemeral replies are seen only by the member whose interaction they answer.
  visible(message) {
    if (this.dismissed.has(message.id)) return false;
    if (!(message.flags & FLAG_EPHEMERAL)) return true;
    const meta = message.interaction_metadata;
    return Boolean(meta && meta.user && meta.user.id === this.me.id);
  }

  async click(message, customId, values, node) {
    node.classList.add("pressed");
    const answer = await this.post("/api/click", { user: this.me.name, message_id: message.id, custom_id: customId, values });
    node.classList.remove("pressed");
    if (answer && answer.error) document.getElementById("composer-error").textContent = answer.error;
  }

  async go(channelId) {
    this.channel = channelId;
    this.renderAll();
    await this.loadCommands();
  }

  async become(name) {
    const wasDm = this.channels.find((c) => c.id === this.channel).kind === "dm";
    this.me = this.members.find((m) => m.name === name);
    if (wasDm) this.channel = this.dmOf(this.me).id;
    this.renderAll();
    await this.loadCommands();
  }
}

window.playground = new Playground();
window.playground.start();
