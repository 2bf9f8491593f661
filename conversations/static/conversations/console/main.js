/* The agent console: one page, many chats, over the /ws/console/ WebSocket. This module starts it: it reads
 * what the page came with, builds the parts below and connects them, handles the frames from the server,
 * and owns the choice of the chat in view and the keyboard.
 *
 *   connection.js   the WebSocket: reconnects, hello, ping and probe, which request an answer is for
 *   frames.js       what each frame from the server does
 *   chat-state.js   every chat: messages by number, both lists, unread, presence, first-response timers
 *   sync.js         which chats this connection follows; fetching what the live feed lost
 *   outbox.js       what the agent wrote and the server has not acknowledged (kept across reloads)
 *   banner.js · list.js · pane.js · composer.js · canned.js · alerts.js     the page around the chats
 *   workspace.js · knowledge.js · notices.js     the panel beside the chat
 *   close-dialog.js · transfer.js                closing with an outcome, handing a chat to a colleague
 *   format.js · dom.js · api.js                  strings and formats, page helpers, the HTTP API
 *
 * The server is the source of truth: every state or welcome frame replaces the queue and the agent's chat
 * list (conversations/protocol.py has every frame). Message text only ever reaches the page through
 * textContent. No build step: the browser loads these files as they are (ES2022 modules; Chromium/Chrome/
 * Edge 94+, Firefox 93+, Safari 15.4+); in production collectstatic gives each a hashed name and rewrites
 * the imports to match.
 */
import { Alerts } from "./alerts.js";
import { Api, sessionEnded } from "./api.js";
import { ConnectionBanner } from "./banner.js";
import { CannedResponses } from "./canned.js";
import { ChatState } from "./chat-state.js";
import { CloseDialog } from "./close-dialog.js";
import { Composer } from "./composer.js";
import { Connection, PING_MS } from "./connection.js";
import { $, dialogOpen, Keeper, readJson, toast } from "./dom.js";
import { translator } from "./format.js";
import { FrameHandler } from "./frames.js";
import { KnowledgeSearch } from "./knowledge.js";
import { ChatLists } from "./list.js";
import { ChangeNotices, NOTICES_REFRESH_MS } from "./notices.js";
import { Outbox } from "./outbox.js";
import { ChatPane } from "./pane.js";
import { ChatSync } from "./sync.js";
import { TransferDialog } from "./transfer.js";
import { Workspace } from "./workspace.js";

const TICK_MS = 500;

// ---------------------------------------------------------------- what the page came with

// The transfer dialog's words come in a block of their own, written in the template.
const t = translator({ ...readJson("console-strings"), ...readJson("console-transfer-strings") });
const CONFIG = readJson("console-config") || {};
const INITIAL = readJson("console-state") || { agent: {}, queue: [], chats: [] };
const WORKSPACE = readJson("workspace-config") || {};
const keeper = new Keeper(`chatops.console.${CONFIG.agent_id || 0}.`);

// ---------------------------------------------------------------- the parts

const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
const connection = new Connection({
  url: scheme + window.location.host + (CONFIG.socket_path || "/ws/console/"),
  checkSession: sessionEnded,
  hooks: {
    onStatus: (status) => banner.status(status),
    onOpen: () => {
      frames.opened();
      banner.hide();
    },
    onFrame: (frame) => frames.handle(frame),
    onClose: connectionLost,
    onWaiting: () => banner.update(),
    onSessionEnded: () => banner.sessionEnded(),
  },
});
const send = (frame, meta) => connection.send(frame, meta);
const connected = () => connection.connected;
const outbox = new Outbox({
  items: keeper.load("outbox", []),
  save: (items) => keeper.store("outbox", items),
  send,
  connected,
});
const state = new ChatState({
  pageVisible: () => document.visibilityState === "visible",
  persist: (name, value) => keeper.store(name, value),
  onStored: (clientMsgId) => outbox.remove(clientMsgId),
  readSeqs: keeper.load("read", {}),
  transferNotes: keeper.load("transfers", {}),
});
const sync = new ChatSync({ state, send, connected });
const api = new Api({ chatUrl: WORKSPACE.chat_url, unauthorized: () => connection.askSession(), t });

const banner = new ConnectionBanner({ connection, t });
const lists = new ChatLists({ state, t, select: (id) => selectChat(id, { focus: true }), take: takeChat });
const alerts = new Alerts({
  state,
  t,
  keeper,
  rowOf: (chat) => lists.rowOf(chat),
  openChat: (id) => selectChat(id, { focus: true }),
});
const composer = new Composer({
  state,
  outbox,
  send,
  t,
  toast,
  rendered: () => pane.renderMessages(),
  popupKey: (event) => canned.onKey(event),
});
const pane = new ChatPane({ state, outbox, t, connected, retry: (chat, id) => composer.retry(chat, id) });
const canned = new CannedResponses({ state, api, composer, t });
const knowledge = new KnowledgeSearch({ api, composer, t, chatId: () => workspace.chatId });
const notices = new ChangeNotices({
  api,
  t,
  toast,
  url: WORKSPACE.notices_url,
  open: WORKSPACE.open_notices,
  acknowledged: (notice) => workspace.noticeRead(notice),
  closed: focusChat,
});
const workspace = new Workspace({ state, api, notices, knowledge, composer, t });
const focusComposer = () => composer.focus();
const stopTyping = () => composer.stopTyping();
const closeDialog = new CloseDialog({ state, send, workspace, t, toast, stopTyping, focusComposer });
const transfer = new TransferDialog({
  state,
  send,
  t,
  toast,
  refresh: () => frames.refresh(),
  leaveChat: openNextChat,
  forgetDraft: (id) => composer.forgetDraft(id),
  stopTyping,
  focusComposer,
});
const frames = new FrameHandler({
  state,
  sync,
  outbox,
  connection,
  alerts,
  notices,
  pane,
  transfer,
  closeDialog,
  t,
  toast,
  renderAll,
  renderChat,
  renderPane,
  renderPresence,
  openNextChat,
  focusComposer,
});

function connectionLost() {
  sync.reset();
  transfer.connectionLost();
  closeDialog.connectionLost();
  renderPane();
}

// ---------------------------------------------------------------- rendering

function renderPresence() {
  const presence = state.agent.presence || "offline";
  $("presence").value = presence;
  document.body.setAttribute("data-presence", presence);
}

function renderPane() {
  pane.render();
  workspace.sync();
}

function renderChat(chat) {
  lists.refresh(chat);
  if (chat.id === state.currentId) renderPane();
  alerts.renderTitle();
}

function renderAll() {
  renderPresence();
  lists.render();
  renderPane();
  alerts.renderTitle();
  transfer.closeIfGone();
  closeDialog.closeIfGone();
}

/** Keep the clocks running, forget a visitor's typing after a while, say "visitor left" a moment after. */
function tick() {
  for (const chat of state.chats.values()) {
    if (!state.listed.has(chat.id)) continue;
    lists.updateClock(chat);
    if (chat.visitorTypingUntil && chat.visitorTypingUntil <= Date.now()) {
      chat.visitorTypingUntil = 0;
      renderChat(chat);
    } else if (state.visitorGone(chat) !== chat.visitorGoneShown) {
      chat.visitorGoneShown = state.visitorGone(chat);
      renderChat(chat);
    }
  }
  const current = state.current();
  if (current) {
    pane.renderClock(current);
    pane.renderTyping(current);
  }
  banner.update();
}

// ---------------------------------------------------------------- the chat in view

function selectChat(id, { focus = false } = {}) {
  const previousId = state.currentId;
  if (previousId !== null && previousId !== id) canned.reset();
  composer.switchChat(previousId, id);
  state.currentId = id;
  if (id !== null) {
    const chat = state.ensureChat(id);
    sync.follow(id);
    state.markRead(chat);
  }
  state.dropEnded();
  lists.render();
  renderPane();
  alerts.renderTitle();
  if (focus && id !== null) focusChat();
}

/** Open the first of the agent's chats (or of the queue) in place of one that went. */
function openNextChat() {
  selectChat(state.mineIds[0] || state.queueIds[0] || null, { focus: true });
}

/** Give the focus to the open chat's next step: the reply box of one's own chat, Take for a waiting one. */
function focusChat() {
  const chat = state.current();
  if (!chat) return;
  if (state.isMine(chat) && !chat.gone) focusComposer();
  else if (state.isQueued(chat) && !chat.gone) $("take-button").focus();
  else (lists.buttonOf(chat) || $("messages")).focus();
}

function moveSelection(step) {
  const order = state.visibleOrder();
  if (!order.length) return;
  const index = order.indexOf(state.currentId);
  const next = index === -1 ? (step > 0 ? 0 : order.length - 1) : (index + step + order.length) % order.length;
  selectChat(order[next], { focus: true });
}

function takeChat(id) {
  alerts.unlockAudio();
  if (!send({ type: "take", conversation: id }, { conversation: id })) {
    toast(t("offline_action"), "error");
    return;
  }
  if (state.currentId !== id) selectChat(id);
}

// ---------------------------------------------------------------- the keyboard and the controls

function onKeyDown(event) {
  // Behind a modal dialog the chat must not change; the dialog has the keyboard.
  if (dialogOpen()) return;
  const { key, code } = event;
  const altOnly = event.altKey && !event.ctrlKey && !event.metaKey;
  if (altOnly && (key === "ArrowUp" || key === "ArrowDown")) {
    event.preventDefault();
    moveSelection(key === "ArrowUp" ? -1 : 1);
    return;
  }
  let bracket = 0;
  if (code === "BracketLeft" || key === "[") bracket = -1;
  if (code === "BracketRight" || key === "]") bracket = 1;
  if (event.ctrlKey && !event.altKey && !event.metaKey && bracket !== 0) {
    event.preventDefault();
    moveSelection(bracket);
    return;
  }
  if (altOnly && (code === "KeyK" || code === "KeyN")) {
    if ($("workspace").hidden) return;
    event.preventDefault();
    const field = $(code === "KeyK" ? "kb-query" : "note-input");
    field.focus();
    if (field.select) field.select();
    return;
  }
  if (altOnly && /^Digit[1-9]$/.test(code)) {
    const target = state.visibleOrder()[Number(code.slice(5)) - 1];
    event.preventDefault();
    if (target !== undefined) selectChat(target, { focus: true });
    return;
  }
  if (key === "Escape" && event.target === $("composer-input")) {
    event.preventDefault();
    stopTyping();
    const chat = state.current();
    ((chat && lists.buttonOf(chat)) || $("messages")).focus();
  }
}

function changePresence(event) {
  const wanted = event.target.value;
  if (!send({ type: "presence", presence: wanted })) {
    toast(t("offline_action"), "error");
    renderPresence();
    return;
  }
  document.body.setAttribute("data-presence", wanted);
}

function wire() {
  document.addEventListener("keydown", onKeyDown);
  // Browsers start audio only after a gesture; any click or key press on the console prepares it.
  document.addEventListener("pointerdown", () => alerts.unlockAudio(), { passive: true });
  document.addEventListener("keydown", () => alerts.unlockAudio());
  composer.wire();
  canned.wire();
  $("presence").addEventListener("change", changePresence);
  $("take-button").addEventListener("click", () => {
    if (state.currentId !== null) takeChat(state.currentId);
  });
  closeDialog.wire();
  transfer.wire();
  $("sound-toggle").addEventListener("click", () => alerts.toggleSound());
  $("notify-button").addEventListener("click", () => alerts.askPermission());
  knowledge.wire();
  workspace.wire();
  notices.wire();
  $("banner-retry").addEventListener("click", () => connection.retryNow());
  document.addEventListener("visibilitychange", () => {
    const current = state.current();
    if (current) state.markRead(current);
    lists.render();
    alerts.renderTitle();
  });
  window.addEventListener("online", () => {
    if (!connection.connected) connection.retryNow();
  });
}

function start() {
  wire();
  alerts.renderSoundButton();
  alerts.renderNotifyButton();
  frames.applyState(INITIAL);
  notices.renderNag();
  connection.connect();
  window.setInterval(tick, TICK_MS);
  window.setInterval(() => connection.ping(), PING_MS);
  window.setInterval(() => notices.refresh(), NOTICES_REFRESH_MS);
}

// For end-to-end tests and debugging in the browser console; read-only views of the state.
window.chatopsConsole = {
  connected,
  currentChat: () => state.currentId,
  outboxSize: () => outbox.size,
  // Ping now instead of at the next 10 s tick.
  ping: () => connection.ping(),
  // Close the connection as a network failure would, and stay away at least holdMs before reconnecting.
  simulateDrop: (holdMs) => connection.simulateDrop(holdMs),
};

start();
