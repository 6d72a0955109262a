// The sandbox's web chat: shows one person's chat with the bot and acts for them, as a Telegram app would.
// Message HTML comes from the server already escaped (bot/sandbox/render.py); everything else is set as text.
"use strict";

const state = { bot: "", boot: "", personas: [], current: null, revision: -1, seenCounts: {}, counts: {},
  poll: null, inlineQuery: null, inlineTimer: null, following: true };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `the sandbox answered ${response.status}`);
  return data;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

function alertBox(text) {
  $("alert-text").textContent = text;
  if (!$("alert").open) $("alert").showModal();
}

async function act(path, body) {
  const person = state.current;
  try {
    const done = await api(path, { persona: person, ...body });
    return state.current === person ? done : null;  // what it answers belongs to a tab no longer shown
  } catch (error) {
    if (state.current === person) toast(error.message);
    return null;
  }
}

// ---- people

function drawTabs() {
  const nav = $("personas");
  nav.replaceChildren(...state.personas.map((p) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.className = "tab" + (p.id === state.current ? " active" : "");
    tab.dataset.persona = p.id;
    tab.append(p.name);
    const role = document.createElement("small");
    role.textContent = p.role;
    tab.append(role);
    const unseen = (state.counts[p.id] || 0) - (state.seenCounts[p.id] || 0);
    if (p.id !== state.current && unseen > 0) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = unseen;
      tab.append(badge);
    }
    tab.addEventListener("click", () => choose(p.id));
    return tab;
  }));
}

function choose(id) {
  if (state.current === id) return;
  state.current = id;
  state.revision = -1;
  history.replaceState(null, "", `#${id}`);
  $("chat").replaceChildren();
  $("text").value = "";
  $("toast").hidden = true;  // a toast is for the tab it answered
  state.following = true;
  drawReplyKeyboard(null);
  hideInline();
  drawTabs();
  listen();
}

// ---- the chat

function button(text, onClick, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function drawMessage(m) {
  const item = document.createElement("div");
  item.className = "msg " + (m.mine ? "mine" : "bot");
  item.dataset.id = m.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (m.via) {
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = `via @${m.via}`;
    bubble.append(via);
  }
  if (m.photo !== undefined) {
    if (m.photo) {
      const img = document.createElement("img");
      img.className = "photo";
      img.src = m.photo;
      img.alt = "photo";
      img.addEventListener("load", followNewest);  // its height is known only now
      bubble.append(img);
    } else {
      const none = document.createElement("span");
      none.className = "placeholder";
      none.textContent = "🖼 Photo (from an address the sandbox doesn't fetch)";
      bubble.append(none);
    }
  }
  if (m.document) {
    const label = `📎 ${m.document.name} (${Math.ceil(m.document.size / 1024)} KB)`;
    if (m.document.url) {
      const link = document.createElement("a");
      link.href = m.document.url;
      link.textContent = label;
      link.setAttribute("download", m.document.name);
      bubble.append(link);
    } else {  // a file Telegram would fetch from a third party's address: the sandbox never does
      const note = document.createElement("span");
      note.textContent = `${label} — Telegram would fetch this file from its address`;
      bubble.append(note);
    }
  }
  if (m.media) bubble.append(`[${m.media}]`);
  if (m.contact) bubble.append(`👤 ${m.contact}`);
  if (m.payment) bubble.append(`✅ You paid ${m.payment} (test payment)`);
  const body = document.createElement("div");
  body.className = "text";
  body.innerHTML = m.html;  // escaped by the server: only Telegram's formatting tags
  bubble.append(body);
  if (m.invoice) {
    const invoice = document.createElement("div");
    invoice.className = "invoice";
    const title = document.createElement("strong");
    title.textContent = m.invoice.title;
    const description = document.createElement("div");
    description.textContent = m.invoice.description;
    const total = document.createElement("div");
    total.className = "total";
    total.textContent = m.invoice.total;
    if (m.invoice.paid) {
      const receipt = document.createElement("div");
      receipt.className = "receipt";
      receipt.textContent = "✅ Paid";
      invoice.append(title, description, total, receipt);
    } else {
      const payButton = button(`Pay ${m.invoice.total} (test)`, () => pay(m.id, payButton), "pay");
      invoice.append(title, description, total, payButton);
    }
    bubble.append(invoice);
  }
  if (m.edited) {
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = "edited";
    bubble.append(meta);
  }
  item.append(bubble);
  if (m.buttons.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "ikb";
    for (const row of m.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const b of row) {
        const label = b.kind === "url" ? `${b.text} ↗` : b.text;
        line.append(button(label, () => press(m.id, b)));
      }
      keyboard.append(line);
    }
    item.append(keyboard);
  }
  return item;
}

function followNewest() {
  if (state.following) $("chat").scrollTop = $("chat").scrollHeight;
}

function drawChat(view) {
  const chat = $("chat");
  if (view.messages.length) {
    chat.replaceChildren(...view.messages.map(drawMessage));
  } else {
    const hint = document.createElement("div");
    hint.className = "hint";
    hint.textContent = "No messages yet. Send /start, or type what you're looking for.";
    chat.replaceChildren(hint);
  }
  followNewest();
  drawReplyKeyboard(view.keyboard);
}

function drawReplyKeyboard(keyboard) {
  const box = $("reply-keyboard");
  box.hidden = !keyboard;
  $("text").placeholder = (keyboard && keyboard.placeholder) || "Message";
  if (!keyboard) return box.replaceChildren();
  box.replaceChildren(...keyboard.rows.map((row, r) => {
    const line = document.createElement("div");
    line.className = "row";
    row.forEach((b, c) => line.append(button(b.text, () => tap(r, c))));
    return line;
  }));
}

async function listen() {
  if (state.poll) state.poll.abort();
  const poll = new AbortController();
  state.poll = poll;
  const person = state.current;
  while (!poll.signal.aborted) {
    try {
      const response = await fetch(`/sandbox/api/chat?persona=${person}&seen=${state.revision}`,
        { signal: poll.signal });
      if (!response.ok) throw new Error(String(response.status));
      const view = await response.json();
      if (poll.signal.aborted) return;
      if (view.boot !== state.boot) return location.reload();  // the sandbox started again (Reset)
      drawChat(view);
      state.revision = view.revision;
      state.counts = view.counts;
      state.seenCounts[person] = view.counts[person] || 0;
      drawTabs();
    } catch (error) {
      if (poll.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// ---- acting

async function press(messageId, b) {
  if (b.kind === "inline") {
    $("text").value = `@${state.bot} ${b.query}`;
    $("text").focus();
    return inlineTyped();
  }
  const done = await act("/sandbox/api/press", { message: messageId, row: b.row, col: b.col });
  if (!done) return;
  if (done.open) window.open(done.open, "_blank", "noopener");
  const answer = done.answer;
  if (answer && answer.text) (answer.alert ? alertBox : toast)(answer.text);
}

async function tap(row, col) {
  await act("/sandbox/api/tap", { row, col });
}

async function pay(messageId, payButton) {
  payButton.disabled = true;  // as Telegram's payment sheet, one payment at a time
  try {
    const done = await act("/sandbox/api/pay", { message: messageId });
    if (done && !done.paid) alertBox(done.error);
  } finally {
    payButton.disabled = false;
  }
}

async function attach(file) {
  const form = new FormData();
  form.append("persona", state.current);
  form.append("file", file);
  const response = await fetch("/sandbox/api/attach", { method: "POST", body: form });
  if (!response.ok) toast((await response.json().catch(() => ({}))).error || "The file could not be sent.");
}

async function send(text) {
  if (!text.trim()) return;
  await act("/sandbox/api/send", { text });
}

// ---- inline mode: "@bot words"

function inlineText() {
  const match = $("text").value.match(new RegExp(`^@${state.bot}(?:\\s+([\\s\\S]*))?$`, "i"));
  return match ? (match[1] || "") : null;
}

function hideInline() {
  clearTimeout(state.inlineTimer);
  state.inlineQuery = null;
  $("inline-results").hidden = true;
  $("inline-results").replaceChildren();
}

function inlineTyped() {
  clearTimeout(state.inlineTimer);
  const query = inlineText();
  if (query === null) return hideInline();
  state.inlineTimer = setTimeout(() => showInline(query), 300);
}

async function showInline(query, offset = "") {
  state.inlineQuery = query;
  const found = await act("/sandbox/api/inline", { query, offset });
  if (!found || state.inlineQuery !== query) return;
  const box = $("inline-results");
  box.hidden = false;
  if (!offset) box.replaceChildren();
  box.querySelectorAll(".more").forEach((more) => more.remove());
  if (!found.results.length && !offset) {
    const empty = document.createElement("div");
    empty.className = "empty";
    empty.textContent = query ? "No results" : `Type what you're looking for after @${state.bot}`;
    return box.replaceChildren(empty);
  }
  box.append(...found.results.map((r) => {
    const item = button("", async () => {
      hideInline();
      $("text").value = "";
      await act("/sandbox/api/inline/choose", { result_id: r.id });
    }, "result");
    const words = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = r.title;
    const description = document.createElement("small");
    description.textContent = r.description;
    words.append(title, description);
    item.replaceChildren(words);
    return item;
  }));
  if (found.next_offset) box.append(button("More results", () => showInline(query, found.next_offset), "result more"));
}

// ---- start

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function reset() {
  if (!confirm("Delete everything done in the sandbox and load the demo store again?")) return;
  $("restarting").hidden = false;
  if (state.poll) state.poll.abort();
  await api("/sandbox/api/reset", {}).catch(() => null);
  for (;;) {  // until the new start answers
    await pause(500);
    const who = await api("/sandbox/api/personas").catch(() => null);
    if (who && who.boot !== state.boot) break;
  }
  location.reload();
}

async function start() {
  let who = null;
  while (!(who = await api("/sandbox/api/personas").catch(() => null))) {
    $("restarting").hidden = false;  // the sandbox is starting (again): wait for it
    await pause(1000);
  }
  $("restarting").hidden = true;
  state.bot = who.bot;
  state.boot = who.boot;
  state.personas = who.personas;
  const wanted = Number(location.hash.slice(1));
  const first = state.personas.find((p) => p.id === wanted) || state.personas[0];
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    hideInline();
    send(text);
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("text").addEventListener("input", inlineTyped);
  $("chat").addEventListener("scroll", () => {
    const chat = $("chat");
    state.following = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  });
  $("chat").addEventListener("click", (event) => {
    const command = event.target.closest("a.command");
    if (command) return send(command.dataset.command);
    const link = event.target.closest("a.deep-link");  // t.me/<bot>?start=…: opens in this person's chat
    if (link) {
      event.preventDefault();
      return send(`/start ${link.dataset.start}`.trim());
    }
    const spoiler = event.target.closest(".spoiler");
    if (spoiler) spoiler.classList.add("shown");
  });
  $("reset").addEventListener("click", reset);
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => {
    const [file] = $("file").files;
    $("file").value = "";
    if (file) attach(file);
  });
  choose(first.id);
}

start();
