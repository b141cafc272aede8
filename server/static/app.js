// opsgraph web chat: threads, streamed answers (SSE over fetch), tool steps, approval cards.
// Plain JavaScript, no build step and no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const EXAMPLES = ["list pods in payments", "why is pod web-1 failing", "scale deploy web to 3 in shop", "optimize cost"];
const state = { token: localStorage.getItem("opsgraph.token") || "", me: null, thread: null, busy: false };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));
const callText = (tool, args) =>
  `${tool}(${Object.entries(args || {}).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ")})`;

// ---- HTTP ---------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (state.token) headers["Authorization"] = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) { askToken(); throw new ApiError(401, "sign in first"); }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  return response;
}

// Server-Sent Events over a POST: read the body stream and split it into events.
async function* sse(path, body) {
  const response = await api("POST", path, body);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, ""));
      if (data.length) yield JSON.parse(data.join("\n"));
    }
  }
}

// ---- rendering ----------------------------------------------------------------------------------
const log = $("log");

function scrollDown() { log.scrollTop = log.scrollHeight; }

function showEmpty(show) { $("empty").hidden = !show; }

function addUser(text) {
  showEmpty(false);
  log.append(el("div", { class: "msg user" }, text));
  scrollDown();
}

// One assistant turn: route line, tool steps, approval cards and the answer, in arrival order.
class Turn {
  constructor() {
    this.node = el("div", { class: "turn msg assistant" });
    this.steps = new Map();
    this.answer = null;
    log.append(this.node);
    showEmpty(false);
  }
  route(agents) { this.node.append(el("div", { class: "route" }, `→ ${agents.join(", ")}`)); }
  step(id, agent, tool, args) {
    const badge = el("span", { class: "state" }, "running…");
    const body = el("div", {}, el("div", { class: "label" }, "arguments"), el("pre", {}, pretty(args)));
    const node = el("details", { class: "step", "data-tool": tool },
      el("summary", {}, el("span", { class: "agent" }, agent), el("code", {}, callText(tool, args)), badge), body);
    this.steps.set(id, { node, state: badge, body });
    this.node.append(node);
  }
  result(id, tool, content) {
    let step = this.steps.get(id);
    if (!step) { this.step(id, "", tool, {}); step = this.steps.get(id); }
    const outcome = /^The user rejected/.test(content) ? ["rejected", "bad"]
      : /^refused:/.test(content) ? ["refused", "bad"]
      : /^error:/.test(content) ? ["error", "bad"] : ["done", "ok"];
    step.state.textContent = outcome[0];
    step.state.className = `state ${outcome[1]}`;
    step.body.append(el("div", { class: "label" }, "result"), el("pre", {}, content));
  }
  text(chunk, replace = false) {
    if (!this.answer) { this.answer = el("div", { class: "answer" }); this.node.append(this.answer); }
    this.answer.textContent = replace ? chunk : this.answer.textContent + chunk;
    // tables from tools (kubectl-style columns) read better in a monospace font
    this.answer.classList.toggle("mono", /\n.*\S {2,}\S/.test(this.answer.textContent));
  }
  error(message) { this.node.append(el("div", { class: "answer error" }, message)); }
  approval(threadId, request) {
    for (const step of this.steps.values()) {
      if (step.node.dataset.tool === request.tool && step.state.textContent === "running…") {
        step.state.textContent = "waiting for approval";
        step.state.className = "state warn";
      }
    }
    this.node.append(approvalCard(threadId, request, this));
  }
}

// A unified diff with added and removed lines coloured.
function diffView(text) {
  const pre = el("pre", { class: "diff" });
  for (const line of text.split("\n")) {
    const kind = /^(\+\+\+|---)/.test(line) ? "file" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
    pre.append(el("span", { class: kind }, line), "\n");
  }
  return pre;
}

function approvalCard(threadId, request, turn) {
  const preview = el("dl", {});
  for (const [key, value] of Object.entries(request.preview || {})) {
    preview.append(el("dt", {}, key.replace(/_/g, " ")), el("dd", {}, key === "diff" ? diffView(pretty(value)) : el("pre", {}, pretty(value))));
  }
  const actions = el("div", { class: "actions" });
  const card = el("div", { class: "approval", role: "group", "aria-label": "Approval needed" },
    el("h3", {}, "Approval needed"),
    el("div", { class: "call" }, `${request.agent} wants to run ${callText(request.tool, request.args)}`),
    preview, actions);
  if (state.me && !state.me.can_approve) {
    actions.append(el("span", { class: "note" }, `${state.me.user} (${state.me.role}) may not approve changes.`));
    return card;
  }
  const decide = (decision) => async () => {
    for (const b of actions.querySelectorAll("button")) b.disabled = true;
    const who = state.me ? ` by ${state.me.user}` : "";
    actions.replaceChildren(el("span", { class: "decided" }, `${decision === "approve" ? "✓ Approved" : "✕ Rejected"}${who}`));
    await run(`/v1/threads/${encodeURIComponent(threadId)}/approvals`, { decision }, turn);
  };
  actions.append(
    el("button", { class: "approve", type: "button", onclick: decide("approve") }, "Approve"),
    el("button", { class: "reject", type: "button", onclick: decide("reject") }, "Reject"));
  return card;
}

// ---- runs ---------------------------------------------------------------------------------------
function setBusy(busy) {
  state.busy = busy;
  $("send").disabled = busy;
  $("status").textContent = busy ? "working…" : "";
}

// Stream a run into `turn` (a resumed run continues the turn that holds its approval card).
async function run(path, body, turn = new Turn()) {
  setBusy(true);
  try {
    for await (const event of sse(path, body)) {
      if (event.type === "start") $("status").textContent = event.queued ? `queued: ${event.queued} in line…` : "working…";
      else if (event.type === "route") { $("status").textContent = "working…"; turn.route(event.agents); }
      else if (event.type === "tool_call") turn.step(event.id, event.agent, event.tool, event.args);
      else if (event.type === "tool_result") turn.result(event.id, event.tool, event.content);
      else if (event.type === "token") turn.text(event.text);
      else if (event.type === "final") turn.text(event.answer, true);
      else if (event.type === "interrupt") turn.approval(event.thread_id, event.approval);
      else if (event.type === "error") turn.error(event.message);
      scrollDown();
    }
  } catch (error) {
    turn.error(error.message);
  } finally {
    setBusy(false);
    scrollDown();
    loadThreads();
  }
}

async function send(text) {
  if (!state.thread) {
    const created = await (await api("POST", "/v1/threads", { title: text.slice(0, 200) })).json();
    state.thread = created.thread_id;
    $("title").textContent = created.title || "Thread";
    history.replaceState(null, "", `#${encodeURIComponent(state.thread)}`);
  }
  addUser(text);
  await run(`/v1/threads/${encodeURIComponent(state.thread)}/messages`, { text });
}

// ---- threads ------------------------------------------------------------------------------------
function ago(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

async function loadThreads() {
  const threads = await (await api("GET", "/v1/threads")).json();
  $("threads").replaceChildren(...threads.map((t) => el("li", {},
    el("button", { type: "button", "aria-current": String(t.thread_id === state.thread), onclick: () => openThread(t.thread_id) },
      el("span", { class: "t-title" }, t.title || t.thread_id),
      el("span", { class: "t-meta" }, el("span", { class: `dot ${t.status}` }), `${t.status} · ${ago(t.updated_at)}`)))));
}

async function openThread(threadId) {
  closeNav();
  const thread = await (await api("GET", `/v1/threads/${encodeURIComponent(threadId)}`)).json();
  state.thread = thread.thread_id;
  history.replaceState(null, "", `#${encodeURIComponent(state.thread)}`);
  $("title").textContent = thread.title || thread.thread_id;
  log.replaceChildren($("empty"));
  showEmpty(thread.messages.length === 0);
  let turn = null;
  for (const m of thread.messages) {
    if (m.role === "user") { addUser(m.content); turn = null; continue; }
    turn = turn || new Turn();
    if (m.role === "assistant") {
      for (const call of m.tool_calls) turn.step(call.id, m.agent || "", call.name, call.args);
      if (m.content) turn.text(m.content + "\n");
    } else if (m.role === "tool") {
      turn.result(m.tool_call_id, m.tool, m.content);
    }
  }
  if (thread.pending) (turn || new Turn()).approval(thread.thread_id, thread.pending);
  scrollDown();
  loadThreads();
}

function newThread() {
  closeNav();
  state.thread = null;
  history.replaceState(null, "", location.pathname);
  $("title").textContent = "New thread";
  log.replaceChildren($("empty"));
  showEmpty(true);
  loadThreads();
  $("input").focus();
}

// ---- sign-in and start-up ------------------------------------------------------------------------
function askToken() {
  const dialog = $("login");
  if (!dialog.open) dialog.showModal();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.token = $("token").value.trim();
  try {
    await start();
    localStorage.setItem("opsgraph.token", state.token);
    $("login").close();
  } catch (error) {
    $("login-error").textContent = error.status === 401 ? "Unknown token." : error.message;
  }
});

function closeNav() { $("app").classList.remove("nav-open"); }
$("menu").addEventListener("click", () => $("app").classList.toggle("nav-open"));
$("scrim").addEventListener("click", closeNav);
$("new-thread").addEventListener("click", newThread);

const input = $("input");
input.addEventListener("input", () => { input.style.height = "auto"; input.style.height = `${input.scrollHeight}px`; });
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
});
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || state.busy) return;
  input.value = "";
  input.style.height = "auto";
  send(text).catch((error) => new Turn().error(error.message));
});
$("chips").append(...EXAMPLES.map((text) => el("button", { type: "button", onclick: () => { input.value = text; input.focus(); } }, text)));

async function start() {
  state.me = await (await api("GET", "/v1/me")).json();
  $("whoami").textContent = `${state.me.user} · ${state.me.role}${state.me.read_only ? " · read-only" : ""}`;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) await openThread(fromHash).catch(newThread);
  else await loadThreads();
}

start().catch(() => { /* 401 opens the sign-in dialog */ });
