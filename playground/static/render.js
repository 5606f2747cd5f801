// Draws one bot message the way Discord's client does: the "used /command" line, author and
// time, content, embeds (colour bar, author, linked title, fields, thumbnail, image, footer),
// components (buttons, selects) and the "Only you can see this" note of ephemeral replies.
"use strict";

const FLAG_EPHEMERAL = 1 << 6;
const FLAG_LOADING = 1 << 7;
const BUTTON_STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };

function el(tag, className, html) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function clock(iso) {
  const date = new Date(iso);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function hexColour(value) {
  return value === undefined || value === null ? "#1e1f22" : "#" + value.toString(16).padStart(6, "0");
}

// Discord puts up to three consecutive inline fields on a row; a non-inline field fills one.
function fieldSpans(fields) {
  const spans = [];
  let run = [];
  const flush = () => {
    run.forEach((index) => { spans[index] = 12 / run.length; });
    run = [];
  };
  fields.forEach((field, index) => {
    if (field.inline) {
      run.push(index);
      if (run.length === 3) flush();
    } else {
      flush();
      spans[index] = 12;
    }
  });
  flush();
  return spans;
}

function renderEmbed(embed) {
  const box = el("div", "embed");
  box.style.borderLeftColor = hexColour(embed.color);
  const body = el("div", "embed-body");
  if (embed.author && embed.author.name) {
    const author = el("div", "embed-author");
    if (embed.author.icon_url) author.appendChild(Object.assign(el("img"), { src: embed.author.icon_url, alt: "" }));
    const name = embed.author.url
      ? Object.assign(el("a", "", escapeHtml(embed.author.name)), { href: safeUrl(embed.author.url), target: "_blank" })
      : el("span", "", escapeHtml(embed.author.name));
    author.appendChild(name);
    body.appendChild(author);
  }
  if (embed.title) {
    const title = embed.url
      ? Object.assign(el("a", "embed-title", markdown(embed.title)), { href: safeUrl(embed.url), target: "_blank", rel: "noopener" })
      : el("div", "embed-title", markdown(embed.title));
    body.appendChild(title);
  }
  if (embed.description) body.appendChild(el("div", "embed-description", markdown(embed.description)));
  const fields = embed.fields || [];
  if (fields.length) {
    const grid = el("div", "embed-fields");
    const spans = fieldSpans(fields);
    fields.forEach((field, index) => {
      const cell = el("div", "embed-field" + (field.inline ? " inline" : ""));
      cell.style.gridColumn = `span ${spans[index]}`;
      cell.appendChild(el("div", "embed-field-name", markdown(field.name)));
      cell.appendChild(el("div", "embed-field-value", markdown(field.value)));
      grid.appendChild(cell);
    });
    body.appendChild(grid);
  }
  if (embed.image && embed.image.url) {
    body.appendChild(Object.assign(el("img", "embed-image"), { src: embed.image.url, alt: "" }));
  }
  if ((embed.footer && embed.footer.text) || embed.timestamp) {
    const parts = [];
    if (embed.footer && embed.footer.text) parts.push(escapeHtml(embed.footer.text));
    if (embed.timestamp) parts.push(escapeHtml(clock(embed.timestamp)));
    const footer = el("div", "embed-footer");
    if (embed.footer && embed.footer.icon_url) footer.appendChild(Object.assign(el("img"), { src: embed.footer.icon_url, alt: "" }));
    footer.appendChild(el("span", "", parts.join(" • ")));
    body.appendChild(footer);
  }
  box.appendChild(body);
  if (embed.thumbnail && embed.thumbnail.url) {
    box.appendChild(Object.assign(el("img", "embed-thumbnail"), { src: embed.thumbnail.url, alt: "" }));
  }
  return box;
}

function renderButton(button, actions) {
  const style = BUTTON_STYLES[button.style] || "secondary";
  const node = el("button", `component button ${style}`);
  node.type = "button";
  const emoji = button.emoji && button.emoji.name ? `<span class="emoji">${escapeHtml(button.emoji.name)}</span>` : "";
  node.innerHTML = emoji + (button.label ? `<span>${escapeHtml(button.label)}</span>` : "");
  node.disabled = Boolean(button.disabled);
  if (style === "link") {
    node.innerHTML += ' <span class="external">↗</span>';
    node.addEventListener("click", () => window.open(safeUrl(button.url), "_blank", "noopener"));
  } else {
    node.dataset.customId = button.custom_id;
    node.addEventListener("click", () => actions.click(button.custom_id, undefined, node));
  }
  return node;
}

function renderSelect(select, actions) {
  const node = el("select", "component select");
  node.dataset.customId = select.custom_id;
  node.disabled = Boolean(select.disabled);
  const many = (select.max_values || 1) > 1;
  node.multiple = many;
  if (!many) {
    const placeholder = el("option", "", escapeHtml(select.placeholder || "Make a selection"));
    placeholder.value = "";
    placeholder.disabled = true;
    placeholder.selected = !(select.options || []).some((o) => o.default);
    node.appendChild(placeholder);
  }
  for (const option of select.options || []) {
    const item = el("option", "", escapeHtml(option.label));
    item.value = option.value;
    item.selected = Boolean(option.default);
    if (option.description) item.title = option.description;
    node.appendChild(item);
  }
  const send = () => {
    const values = Array.from(node.selectedOptions).map((o) => o.value).filter((v) => v !== "");
    if (values.length) actions.click(select.custom_id, values, node);
  };
  if (many) {
    const wrap = el("div", "multi-select");
    const done = el("button", "component button primary", "Choose");
    done.type = "button";
    done.addEventListener("click", send);
    wrap.append(node, done);
    return wrap;
  }
  node.addEventListener("change", send);
  return node;
}

function renderComponents(components, actions) {
  const box = el("div", "components");
  for (const row of components || []) {
    const line = el("div", "action-row");
    for (const part of row.type === 1 ? row.components : [row]) {
      if (part.type === 2) line.appendChild(renderButton(part, actions));
      else if ([3, 5, 6, 7, 8].includes(part.type)) line.appendChild(renderSelect(part, actions));
    }
    box.appendChild(line);
  }
  return box;
}

// `shown` is {message, typed}; `ctx` holds the bot's name, the member names by id and the
// click action.
function renderMessage(shown, ctx) {
  const message = shown.message;
  const item = el("li", "message");
  item.dataset.messageId = message.id;
  const meta = message.interaction_metadata;
  if (meta && meta.type === 2) {
    const who = ctx.memberName(meta.user && meta.user.id);
    item.appendChild(el("div", "used", `<span class="mention">@${escapeHtml(who)}</span> used <span class="command">${escapeHtml(shown.typed || "a command")}</span>`));
  }
  const line = el("div", "message-line");
  line.appendChild(el("div", "avatar", "A8"));
  const main = el("div", "message-main");
  main.appendChild(el("div", "message-head",
    `<span class="author">${escapeHtml(ctx.botName)}</span><span class="app-tag">APP</span>` +
    `<time>${escapeHtml(clock(message.timestamp))}</time>` +
    ""));
  if (message.flags & FLAG_LOADING) {
    main.appendChild(el("div", "thinking", `${escapeHtml(ctx.botName)} is thinking<span class="dots">…</span>`));
  }
  if (message.content) main.appendChild(el("div", "content", markdown(message.content)));
  for (const embed of message.embeds || []) main.appendChild(renderEmbed(embed));
  if (message.poll) {
    const poll = el("div", "poll", `<div class="poll-question">${escapeHtml(message.poll.question.text)}</div>`);
    for (const answer of message.poll.answers) poll.appendChild(el("div", "poll-answer", escapeHtml(answer.poll_media.text)));
    main.appendChild(poll);
  }
  for (const file of message.attachments || []) {
    main.appendChild(Object.assign(el("a", "attachment", `📎 ${escapeHtml(file.filename)}`), { href: file.url, target: "_blank" }));
  }
  if ((message.components || []).length) {
    main.appendChild(renderComponents(message.components, {
      click: (customId, values, node) => ctx.click(message, customId, values, node),
    }));
  }
  if (message.flags & FLAG_EPHEMERAL) {
    main.appendChild(el("div", "ephemeral-note", '<span class="eye">◉</span> Only you can see this • <a href="#" class="dismiss">Dismiss message</a>'));
    main.querySelector(".dismiss").addEventListener("click", (event) => {
      event.preventDefault();
      ctx.dismiss(message.id);
    });
    item.classList.add("ephemeral");
  }
  line.appendChild(main);
  item.appendChild(line);
  return item;
}
