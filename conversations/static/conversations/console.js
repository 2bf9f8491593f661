/* The agent console: one page, many chats, over the /ws/console/ WebSocket.
 *
 * The server is the source of truth: every state or welcome frame replaces the queue and the
 * agent's chat list; messages are kept per chat by sequence number, so a frame that arrives twice
 * (a push and a history after a reconnect) is shown once. Messages the agent writes wait in an
 * outbox (kept in localStorage) until the server acknowledges them, and are re-sent with the same
 * client_msg_id after a reconnect, which the server stores only once.
 *
 * Message text only ever reaches the page through textContent.
 */
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // The transfer dialog's words come in a block of their own, written in the template.
  var STRINGS = Object.assign({}, readJson("console-strings") || {}, readJson("console-transfer-strings") || {});
  var CONFIG = readJson("console-config") || {};
  var INITIAL = readJson("console-state") || { agent: {}, queue: [], chats: [] };

  // A reply waits this long before amber: "near" the tenant's first-response target.
  var NEAR_TARGET_SHARE = 0.7;
  var TYPING_RESEND_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  // A visitor's "typing" without a follow-up is forgotten after this long (they may have left).
  var TYPING_SHOW_MS = 8000;
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var REFRESH_DEBOUNCE_MS = 60;
  var BEEP_MIN_GAP_MS = 900;
  // Chats seen only through an activity frame are dropped if no state lists them within this time.
  var PLACEHOLDER_TTL_MS = 5000;
  var QUEUE_PREVIEW_LIMIT = 25;
  var REPLY_FRAMES = { hello: 1, presence: 1, open: 1, take: 1, message: 1, close: 1, colleagues: 1, transfer: 1 };
  var STORAGE_PREFIX = "chatops.console." + (CONFIG.agent_id || 0) + ".";

  // ---------------------------------------------------------------- small helpers

  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : key;
    if (!params) return text;
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match;
    });
  }

  function $(id) {
    return document.getElementById(id);
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function load(name, fallback) {
    try {
      var raw = window.localStorage.getItem(STORAGE_PREFIX + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function store(name, value) {
    try {
      window.localStorage.setItem(STORAGE_PREFIX + name, JSON.stringify(value));
    } catch (error) {
      /* Private mode or a full storage: the console still works, it only forgets on reload. */
    }
  }

  function newClientMsgId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return "a-" + window.crypto.randomUUID();
    return "a-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function parseTime(value) {
    if (!value) return null;
    var ms = Date.parse(value);
    return isNaN(ms) ? null : ms;
  }

  function formatDuration(seconds) {
    var whole = Math.max(0, Math.floor(seconds));
    var minutes = Math.floor(whole / 60);
    var rest = whole % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function formatClockTime(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // ---------------------------------------------------------------- state

  var agent = INITIAL.agent || {};
  var chats = new Map(); // conversation id → chat (see ensureChat)
  var queueIds = [];
  var mineIds = [];
  var listed = new Set();
  // Chats that left this agent's lists; the connection may still carry their frames, which must not alert.
  var retired = new Set();
  var currentId = null;
  var stateApplied = false;

  var socket = null;
  var connected = false;
  var attempt = 0;
  var reconnectTimer = null;
  var reconnectAt = 0;
  var sessionEnded = false;
  var pendingReplies = []; // what each reply-bearing frame sent on this connection waits for, in order
  var subscribed = new Set(); // conversations opened on this connection
  var flushNeeded = false;
  var refreshTimer = null;
  var holdReconnectUntil = 0; // only set by simulateDrop, to rehearse an outage

  // Server time ≈ client time − offset; estimated from live frames so timers agree with the server.
  var clockSamples = [];
  var clockOffsetMs = 0;

  var readSeqs = load("read", {});
  var outbox = load("outbox", []);
  var drafts = new Map();
  var soundOn = load("sound", true) !== false;
  var audioContext = null;
  var lastBeepAt = 0;
  var typingSent = { conversation: null, at: 0, idleTimer: null };
  // Notes that came with chats transferred to this agent (conversation id → {by, note, at}), shown until they reply.
  var transferNotes = load("transfers", {});
  // The transfer dialog: which chat, the colleagues offered, and the transfer waiting for the server's answer.
  var transferring = { chatId: null, colleagues: null, pending: null };

  function ensureChat(id) {
    var chat = chats.get(id);
    if (!chat) {
      chat = {
        id: id,
        data: { conversation: id },
        messages: new Map(),
        loaded: false,
        loadedThrough: 0,
        firstAgentReplyAt: null,
        deliveredSeq: 0,
        visitorTypingUntil: 0,
        failed: [],
        gone: null,
        closing: false,
        resyncing: false,
        placeholderSince: Date.now(),
        dom: null,
      };
      chats.set(id, chat);
    }
    return chat;
  }

  function serverNow() {
    return Date.now() - clockOffsetMs;
  }

  function noteClock(createdAt) {
    var ms = parseTime(createdAt);
    if (ms === null) return;
    clockSamples.push(Date.now() - ms);
    if (clockSamples.length > 7) clockSamples.shift();
    // Delivery only ever adds delay, so the smallest recent difference is the closest to the true offset.
    clockOffsetMs = Math.min.apply(null, clockSamples);
  }

  function isMine(chat) {
    return mineIds.indexOf(chat.id) !== -1;
  }

  function isQueued(chat) {
    return queueIds.indexOf(chat.id) !== -1;
  }

  function visibleOrder() {
    return mineIds.concat(queueIds);
  }

  function inView(chat) {
    return chat.id === currentId && document.visibilityState === "visible";
  }

  function lastKnownSeq(chat) {
    var last = chat.data.last_seq || 0;
    chat.messages.forEach(function (message) {
      if (message.seq > last) last = message.seq;
    });
    return last;
  }

  function unreadCount(chat) {
    if (chat.gone) return 0;
    var read = readSeqs[chat.id] || 0;
    var count = 0;
    var last = lastKnownSeq(chat);
    for (var seq = read + 1; seq <= last; seq += 1) {
      var message = chat.messages.get(seq);
      // A message not loaded yet (a queue chat never opened) counts: in a waiting chat they are the visitor's.
      if (!message ? !chat.loaded : message.sender === "visitor") count += 1;
    }
    return count;
  }

  function markRead(chat) {
    if (!inView(chat)) return;
    var last = lastKnownSeq(chat);
    if ((readSeqs[chat.id] || 0) < last) {
      readSeqs[chat.id] = last;
      store("read", readSeqs);
    }
  }

  function pruneReadMarks() {
    var kept = {};
    Object.keys(readSeqs).forEach(function (key) {
      var id = Number(key);
      if (listed.has(id) || id === currentId) kept[key] = readSeqs[key];
    });
    readSeqs = kept;
    store("read", readSeqs);
    // A note is kept a moment before its chat is listed: the assigned frame comes before the state naming it.
    var notes = {};
    Object.keys(transferNotes).forEach(function (key) {
      var id = Number(key);
      if (mineIds.indexOf(id) !== -1 || Date.now() - transferNotes[key].at < PLACEHOLDER_TTL_MS) {
        notes[key] = transferNotes[key];
      }
    });
    transferNotes = notes;
    store("transfers", transferNotes);
  }

  // ---------------------------------------------------------------- messages

  function addMessage(chat, message) {
    if (chat.messages.has(message.seq)) return false;
    chat.messages.set(message.seq, message);
    if (message.seq > (chat.data.last_seq || 0)) chat.data.last_seq = message.seq;
    while (chat.messages.has(chat.loadedThrough + 1)) chat.loadedThrough += 1;
    var at = parseTime(message.created_at);
    if (message.sender === "agent" && at !== null) {
      if (chat.firstAgentReplyAt === null || at < chat.firstAgentReplyAt) chat.firstAgentReplyAt = at;
    }
    if (message.sender === "visitor" && !chat.data.first_visitor_message_at) {
      chat.data.first_visitor_message_at = message.created_at;
    }
    if (message.client_msg_id) removeFromOutbox(message.client_msg_id);
    return true;
  }

  function sortedMessages(chat) {
    return Array.from(chat.messages.values()).sort(function (a, b) {
      return a.seq - b.seq;
    });
  }

  function outboxOf(chatId) {
    return outbox.filter(function (item) {
      return item.conversation === chatId;
    });
  }

  function removeFromOutbox(clientMsgId) {
    var before = outbox.length;
    outbox = outbox.filter(function (item) {
      return item.client_msg_id !== clientMsgId;
    });
    if (outbox.length !== before) store("outbox", outbox);
  }

  function sendOutboxItem(item) {
    send(
      { type: "message", conversation: item.conversation, body: item.body, client_msg_id: item.client_msg_id },
      { client_msg_id: item.client_msg_id, conversation: item.conversation }
    );
  }

  function flushOutbox() {
    flushNeeded = false;
    outbox.forEach(sendOutboxItem);
  }

  function failOutboxItem(clientMsgId, reason) {
    var item = outbox.find(function (entry) {
      return entry.client_msg_id === clientMsgId;
    });
    if (!item) return;
    removeFromOutbox(clientMsgId);
    ensureChat(item.conversation).failed.push({ client_msg_id: item.client_msg_id, body: item.body, reason: reason });
  }

  // ---------------------------------------------------------------- the socket

  function setConnection(status) {
    document.body.setAttribute("data-connection", status);
    var text = { connecting: t("connecting"), online: t("connected"), offline: t("reconnecting") }[status];
    $("connection-text").textContent = text || status;
  }

  function showBanner(text, options) {
    options = options || {};
    $("banner-text").textContent = text;
    $("banner-retry").hidden = !options.retry;
    $("banner-signin").hidden = !options.signIn;
    $("banner").hidden = false;
  }

  function hideBanner() {
    $("banner").hidden = true;
  }

  function connect() {
    if (sessionEnded) return;
    window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    reconnectAt = 0;
    if (socket) return;
    setConnection("connecting");
    if (!$("banner").hidden) $("banner-text").textContent = t("reconnecting");
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + window.location.host + (CONFIG.socket_path || "/ws/console/"));
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("open", function () {
      if (socket !== ws) return;
      connected = true;
      pendingReplies = [];
      subscribed.clear();
      flushNeeded = true;
      setConnection("online");
      hideBanner();
      send({ type: "hello" });
    });
    ws.addEventListener("message", function (event) {
      if (socket !== ws) return;
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame.type === "string") handleFrame(frame);
    });
    ws.addEventListener("close", function () {
      if (socket !== ws) return;
      socket = null;
      connected = false;
      pendingReplies = [];
      subscribed.clear();
      setConnection("offline");
      onTransferConnectionLost();
      renderPane();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (sessionEnded || reconnectTimer) return;
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    delay = Math.round(delay * (0.75 + Math.random() * 0.5)); // spread out a whole team reconnecting at once
    delay = Math.max(delay, holdReconnectUntil - Date.now());
    attempt += 1;
    reconnectAt = Date.now() + delay;
    reconnectTimer = window.setTimeout(connect, delay);
    updateBanner();
    if (attempt >= 2) checkSession();
  }

  function updateBanner() {
    if (sessionEnded || connected || !reconnectAt) return;
    var seconds = Math.max(0, Math.ceil((reconnectAt - Date.now()) / 1000));
    showBanner(seconds > 0 ? t("reconnecting_in", { seconds: seconds }) : t("reconnecting"), { retry: true });
  }

  // A refused WebSocket looks like any dropped connection; ask the page itself whether we are still signed in.
  function checkSession() {
    if (!window.fetch) return;
    window
      .fetch(window.location.pathname, {
        method: "HEAD",
        redirect: "manual",
        cache: "no-store",
        credentials: "same-origin",
      })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          sessionEnded = true;
          window.clearTimeout(reconnectTimer);
          reconnectTimer = null;
          setConnection("offline");
          showBanner(t("session_ended"), { signIn: true });
        }
      })
      .catch(function () {
        /* The server is unreachable: keep trying to reconnect. */
      });
  }

  function send(frame, meta) {
    if (!connected || !socket) return false;
    socket.send(JSON.stringify(frame));
    if (REPLY_FRAMES[frame.type]) pendingReplies.push(Object.assign({ type: frame.type }, meta || {}));
    return true;
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      send({ type: "hello" });
    }, REFRESH_DEBOUNCE_MS);
  }

  function ensureOpen(id) {
    if (!connected || subscribed.has(id)) return;
    var chat = ensureChat(id);
    subscribed.add(id);
    send({ type: "open", conversation: id, last_seq: chat.loaded ? chat.loadedThrough : 0 }, { conversation: id });
  }

  // ---------------------------------------------------------------- frames from the server

  function handleFrame(frame) {
    switch (frame.type) {
      case "welcome":
      case "state":
        onStateFrame(frame, pendingReplies.shift());
        break;
      case "history":
        pendingReplies.shift();
        onHistory(frame);
        break;
      case "ack":
        pendingReplies.shift();
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      case "message":
      case "activity":
        onMessage(frame);
        break;
      case "colleagues":
        pendingReplies.shift();
        onColleagues(frame);
        break;
      case "assigned":
        if (frame.transferred_by !== undefined) noteTransfer(frame);
        scheduleRefresh();
        break;
      case "queue":
      case "requeued":
        scheduleRefresh();
        break;
      case "withdrawn":
        onWithdrawn(frame);
        scheduleRefresh();
        break;
      case "closed":
        onClosed(frame);
        scheduleRefresh();
        break;
      case "typing":
        onTyping(frame);
        break;
      case "delivered":
        onDelivered(frame);
        break;
      default:
        break;
    }
  }

  function onStateFrame(frame, request) {
    var takenId = request && request.type === "take" ? request.conversation : null;
    var closedId = request && request.type === "close" ? request.conversation : null;
    var transferredId = request && request.type === "transfer" ? request.conversation : null;
    applyState(frame);
    if (frame.type === "welcome") {
      // Only a connection that got as far as a welcome counts as working; backoff keeps growing otherwise.
      attempt = 0;
      if (flushNeeded) flushOutbox();
      // A dialog left open through a reconnect asks again: the list it shows may be out of date.
      if (transferDialogOpen() && !transferring.pending) {
        if ($("transfer-error").textContent === t("offline_action")) showTransferError("");
        askColleagues();
      }
    }
    if (transferredId !== null) onTransferred(transferredId, request);
    if (takenId !== null && mineIds.indexOf(takenId) !== -1 && !request.errored) {
      toast(t("taken_toast"));
      if (currentId === takenId) focusComposer();
    }
    if (closedId !== null) {
      var closedChat = chats.get(closedId);
      if (closedChat) closedChat.closing = false;
      toast(t("closed_toast"));
      if (currentId === closedId) {
        var next = mineIds[0] || queueIds[0] || null;
        selectChat(next, { focus: true });
      }
    }
  }

  function applyState(frame) {
    agent = frame.agent || agent;
    var previous = listed;
    var isFirst = !stateApplied;
    queueIds = (frame.queue || []).map(function (payload) {
      return payload.conversation;
    });
    mineIds = (frame.chats || []).map(function (payload) {
      return payload.conversation;
    });
    listed = new Set(queueIds.concat(mineIds));
    (frame.queue || []).concat(frame.chats || []).forEach(function (payload) {
      var chat = ensureChat(payload.conversation);
      // Keep what messages taught us when the snapshot is older than a frame already received.
      var firstVisitorAt = chat.data.first_visitor_message_at;
      var lastSeq = chat.data.last_seq || 0;
      Object.assign(chat.data, payload);
      if (!chat.data.first_visitor_message_at) chat.data.first_visitor_message_at = firstVisitorAt;
      chat.data.last_seq = Math.max(lastSeq, payload.last_seq || 0);
      chat.gone = null;
      chat.placeholderSince = null;
      retired.delete(chat.id);
    });
    chats.forEach(function (chat) {
      if (listed.has(chat.id) || chat.gone) return;
      if (previous.has(chat.id)) {
        chat.gone = chat.closing || chat.data.status === "closed" ? "closed" : "gone";
        retired.add(chat.id);
      } else if (chat.placeholderSince !== null && Date.now() - chat.placeholderSince > PLACEHOLDER_TTL_MS) {
        chat.gone = "gone";
        retired.add(chat.id);
      }
    });
    stateApplied = true;
    if (!isFirst) {
      listed.forEach(function (id) {
        if (!previous.has(id)) alertNewChat(chats.get(id));
      });
    }
    mineIds.forEach(ensureOpen);
    // Waiting chats are opened too, so their messages and typing show before anyone takes them.
    queueIds.slice(0, QUEUE_PREVIEW_LIMIT).forEach(ensureOpen);
    if (currentId !== null && listed.has(currentId)) ensureOpen(currentId);
    pruneReadMarks();
    renderAll();
  }

  function onHistory(frame) {
    var payload = frame.conversation || {};
    if (retired.has(payload.conversation) && !chats.has(payload.conversation)) return;
    var chat = ensureChat(payload.conversation);
    Object.assign(chat.data, payload);
    (frame.messages || []).forEach(function (message) {
      addMessage(chat, message);
    });
    chat.loaded = true;
    chat.resyncing = false;
    // Everything up to the conversation's last number has now been sent to us.
    chat.loadedThrough = Math.max(chat.loadedThrough, payload.last_seq || 0);
    while (chat.messages.has(chat.loadedThrough + 1)) chat.loadedThrough += 1;
    if (payload.status === "closed") {
      chat.gone = "closed";
      retired.add(chat.id);
    }
    markRead(chat);
    renderChat(chat);
  }

  function onAck(frame) {
    var item = outbox.find(function (entry) {
      return entry.client_msg_id === frame.client_msg_id;
    });
    if (!item) return;
    var chat = chats.get(item.conversation);
    if (!chat) {
      removeFromOutbox(item.client_msg_id);
      return;
    }
    addMessage(chat, {
      conversation: item.conversation,
      seq: frame.seq,
      sender: "agent",
      agent_name: agent.name || "",
      body: item.body,
      client_msg_id: item.client_msg_id,
      created_at: new Date(serverNow()).toISOString(),
    });
    removeFromOutbox(item.client_msg_id);
    forgetTransferNote(chat.id);
    markRead(chat);
    renderChat(chat);
  }

  function errorText(frame) {
    var key = "error_" + frame.code;
    return Object.prototype.hasOwnProperty.call(STRINGS, key)
      ? t(key)
      : t("error_default", { message: frame.message || frame.code });
  }

  // Errors carry no reference to the frame they answer; the server answers in order, so it is the oldest one
  // waiting. A refused take is the one case followed by a state frame, so it stays in line for that frame.
  function onError(frame) {
    var request = pendingReplies[0];
    if (request && request.type === "take" && frame.code === "not_available") {
      request.errored = true;
    } else {
      pendingReplies.shift();
    }
    if ((request && (request.type === "transfer" || request.type === "colleagues")) || frame.ref === "transfer") {
      onTransferError(frame, request);
      return;
    }
    var text = errorText(frame);
    if (request && request.type === "message") {
      failOutboxItem(request.client_msg_id, text);
      renderChat(ensureChat(request.conversation));
      return;
    }
    if (request && request.type === "open" && frame.code === "not_found") {
      var chat = ensureChat(request.conversation);
      chat.gone = "gone";
      retired.add(chat.id);
      renderChat(chat);
      return;
    }
    if (request && request.type === "close") {
      var closing = chats.get(request.conversation);
      if (closing) closing.closing = false;
    }
    if (request && request.type === "presence") renderPresence();
    toast(text, "error");
  }

  function onMessage(message) {
    var id = message.conversation;
    if (retired.has(id)) {
      var former = chats.get(id);
      if (former && addMessage(former, message) && id === currentId) renderPane();
      return;
    }
    var known = chats.has(id);
    var chat = ensureChat(id);
    if (!known) scheduleRefresh();
    if (!addMessage(chat, message)) return;
    // A live reply from another tab of this agent retires the note too.
    if (message.sender === "agent" && message.agent_name === agent.name) forgetTransferNote(id);
    if (message.sender === "visitor") {
      noteClock(message.created_at);
      chat.visitorTypingUntil = 0;
    }
    // A number skipped means a message was missed between a history and the live feed: fetch from the gap.
    if (chat.loaded && !chat.resyncing && message.seq > chat.loadedThrough + 1 && connected) {
      chat.resyncing = true;
      subscribed.delete(id);
      ensureOpen(id);
    }
    if (message.sender === "visitor") {
      if (inView(chat)) markRead(chat);
      else alertMessage(chat, message);
    }
    renderChat(chat);
  }

  function onClosed(frame) {
    var chat = chats.get(frame.conversation);
    if (!chat) return;
    Object.assign(chat.data, frame);
    chat.gone = "closed";
    retired.add(chat.id);
    chat.visitorTypingUntil = 0;
    queueIds = queueIds.filter(function (id) {
      return id !== chat.id;
    });
    mineIds = mineIds.filter(function (id) {
      return id !== chat.id;
    });
    listed.delete(chat.id);
    outboxOf(chat.id).forEach(function (item) {
      failOutboxItem(item.client_msg_id, t("error_closed"));
    });
    renderAll();
  }

  function onTyping(frame) {
    if (frame.sender !== "visitor") return;
    var chat = chats.get(frame.conversation);
    if (!chat || chat.gone) return;
    chat.visitorTypingUntil = frame.active ? Date.now() + TYPING_SHOW_MS : 0;
    renderChat(chat);
  }

  function onDelivered(frame) {
    var chat = chats.get(frame.conversation);
    if (!chat || !(frame.seq > chat.deliveredSeq)) return;
    chat.deliveredSeq = frame.seq;
    if (chat.id === currentId) renderMessages();
  }

  // ---------------------------------------------------------------- alerts

  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audioContext) {
      try {
        audioContext = new Context();
      } catch (error) {
        return;
      }
    }
    if (audioContext.state === "suspended") audioContext.resume().catch(function () {});
  }

  function tone(frequency, startsAt, duration) {
    var oscillator = audioContext.createOscillator();
    var gain = audioContext.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, startsAt);
    gain.gain.exponentialRampToValueAtTime(0.18, startsAt + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, startsAt + duration);
    oscillator.connect(gain).connect(audioContext.destination);
    oscillator.start(startsAt);
    oscillator.stop(startsAt + duration + 0.02);
  }

  function beep() {
    if (!soundOn || Date.now() - lastBeepAt < BEEP_MIN_GAP_MS) return;
    lastBeepAt = Date.now();
    unlockAudio();
    if (!audioContext) return;
    try {
      var now = audioContext.currentTime;
      // Two soft rising tones: noticeable without being shrill over an 8-hour shift.
      tone(660, now, 0.14);
      tone(880, now + 0.16, 0.18);
    } catch (error) {
      /* An audio device can disappear; the title and notifications still alert. */
    }
  }

  function notify(title, body, chatId) {
    if (!("Notification" in window) || window.Notification.permission !== "granted") return;
    try {
      var notification = new window.Notification(title, { body: body, tag: "chatops-" + chatId, silent: true });
      notification.onclick = function () {
        window.focus();
        selectChat(chatId, { focus: true });
        notification.close();
      };
    } catch (error) {
      /* Some browsers only allow notifications from a service worker. */
    }
  }

  function alertNewChat(chat) {
    if (!chat) return;
    beep();
    var title = t("new_chat", { tenant: chat.data.tenant_name || "" });
    var handed = transferNotes[chat.id];
    var body = t("visitor") + " " + (chat.data.visitor || "");
    if (handed) {
      body = handed.note
        ? t("transfer_notification", { name: handed.by, note: handed.note.slice(0, 160) })
        : t("transfer_note_by", { name: handed.by });
    }
    notify(title, body, chat.id);
    flash(chat);
  }

  function alertMessage(chat, message) {
    beep();
    flash(chat);
    // The first message of a new chat can come before the state that names its tenant; give that a moment.
    window.setTimeout(
      function () {
        notify(t("new_message", { tenant: chat.data.tenant_name || "" }), (message.body || "").slice(0, 160), chat.id);
      },
      chat.data.tenant_name ? 0 : 400
    );
  }

  function flash(chat) {
    if (!chat.dom) return;
    chat.dom.row.classList.remove("is-new");
    void chat.dom.row.offsetWidth; // restart the animation
    chat.dom.row.classList.add("is-new");
  }

  // ---------------------------------------------------------------- rendering: the lists

  var baseTitle = document.title;

  function renderTitle() {
    var total = 0;
    chats.forEach(function (chat) {
      if (listed.has(chat.id) || chat.placeholderSince !== null) total += unreadCount(chat);
    });
    document.title = total > 0 ? t("title_counter", { count: total, title: baseTitle }) : baseTitle;
  }

  function frtOf(chat) {
    var target = chat.data.first_response_target_seconds || 10;
    var first = parseTime(chat.data.first_visitor_message_at);
    if (first === null) return { state: "none", target: target, seconds: 0, level: "ok" };
    if (chat.firstAgentReplyAt !== null) {
      var took = (chat.firstAgentReplyAt - first) / 1000;
      return { state: "done", target: target, seconds: took, level: took <= target ? "ok" : "late" };
    }
    var waited = (serverNow() - first) / 1000;
    var level = waited > target ? "late" : waited >= target * NEAR_TARGET_SHARE ? "near" : "ok";
    return { state: "running", target: target, seconds: waited, level: level };
  }

  function previewOf(chat) {
    if (chat.visitorTypingUntil > Date.now()) return { text: t("typing_short"), typing: true };
    var last = null;
    chat.messages.forEach(function (message) {
      if (!last || message.seq > last.seq) last = message;
    });
    if (!last) return { text: (chat.data.last_seq || 0) > 0 ? "…" : t("no_preview"), typing: false };
    var prefix = last.sender === "agent" ? (last.agent_name || "") + ": " : "";
    return { text: prefix + last.body.replace(/\s+/g, " ").slice(0, 120), typing: false };
  }

  function buildItem(chat) {
    var row = make("li", "chat-row");
    row.dataset.id = String(chat.id);
    var button = make("button", "chat-item");
    button.type = "button";
    button.addEventListener("click", function () {
      selectChat(chat.id, { focus: true });
    });
    var top = make("span", "ci-line");
    var tenant = make("span", "ci-tenant");
    var lang = make("span", "ci-lang");
    var clock = make("span", "ci-clock");
    top.append(tenant, lang, clock);
    var middle = make("span", "ci-line");
    var visitor = make("span", "ci-visitor");
    var handed = make("span", "ci-transfer", t("transfer_tag"));
    var badge = make("span", "ci-badge");
    middle.append(visitor, handed, badge);
    var preview = make("span", "ci-preview");
    var key = make("span", "ci-key");
    key.setAttribute("aria-hidden", "true");
    button.append(top, middle, preview, key);
    var take = make("button", "take-inline", t("take"));
    take.type = "button";
    take.addEventListener("click", function () {
      takeChat(chat.id);
    });
    row.append(button, take);
    chat.dom = { row: row, button: button, tenant: tenant, lang: lang, clock: clock, visitor: visitor, badge: badge,
      preview: preview, key: key, take: take, handed: handed };
  }

  function updateItem(chat, position) {
    if (!chat.dom) buildItem(chat);
    var dom = chat.dom;
    var queued = isQueued(chat);
    dom.row.classList.toggle("is-queued", queued);
    dom.take.hidden = !queued;
    dom.tenant.textContent = chat.data.tenant_name || "";
    dom.lang.textContent = (chat.data.tenant_language || "").toUpperCase();
    dom.visitor.textContent = t("visitor") + " " + (chat.data.visitor || "");
    var handed = isMine(chat) ? transferNotes[chat.id] : null;
    dom.handed.hidden = !handed;
    dom.handed.title = handed ? t("transfer_note_by", { name: handed.by }) : "";
    var unread = unreadCount(chat);
    dom.badge.textContent = unread > 0 ? String(unread) : "";
    dom.badge.hidden = unread === 0;
    dom.badge.setAttribute("aria-label", t("unread", { count: unread }));
    dom.row.classList.toggle("has-unread", unread > 0);
    var preview = previewOf(chat);
    dom.preview.textContent = preview.text;
    dom.preview.classList.toggle("is-typing", preview.typing);
    dom.key.textContent = position < 9 ? "Alt+" + (position + 1) : "";
    if (chat.id === currentId) dom.button.setAttribute("aria-current", "true");
    else dom.button.removeAttribute("aria-current");
    updateClock(chat);
  }

  function updateClock(chat) {
    if (!chat.dom) return;
    var frt = frtOf(chat);
    var clock = chat.dom.clock;
    clock.className = "ci-clock level-" + frt.level + " state-" + frt.state;
    clock.textContent = frt.state === "running" ? formatDuration(frt.seconds) : "";
    clock.hidden = frt.state !== "running";
    if (frt.state === "running") {
      clock.title = t("frt_label") + " · " + t("frt_target", { time: formatDuration(frt.target) });
    }
  }

  function renderList(listNode, ids, offset) {
    var rows = ids.map(function (id, index) {
      var chat = ensureChat(id);
      updateItem(chat, offset + index);
      return chat.dom.row;
    });
    // Move rows only when the order changed, so the focused button keeps its focus.
    var same = listNode.children.length === rows.length && rows.every(function (row, index) {
      return listNode.children[index] === row;
    });
    if (!same) {
      var active = document.activeElement;
      listNode.replaceChildren.apply(listNode, rows);
      if (active && document.contains(active) && active !== document.activeElement) active.focus();
    }
  }

  function renderLists() {
    renderList($("mine-list"), mineIds, 0);
    renderList($("queue-list"), queueIds, mineIds.length);
    $("mine-count").textContent = String(mineIds.length);
    $("queue-count").textContent = String(queueIds.length);
    $("queue-count").classList.toggle("is-busy", queueIds.length > 0);
    $("mine-empty").hidden = mineIds.length > 0;
    $("queue-empty").hidden = queueIds.length > 0;
  }

  function renderPresence() {
    var presence = agent.presence || "offline";
    $("presence").value = presence;
    document.body.setAttribute("data-presence", presence);
  }

  // ---------------------------------------------------------------- rendering: the open chat

  var messageNodes = new Map(); // key → <li>, for the chat in view
  var renderedChatId = null;

  function statusText(chat) {
    var started = parseTime(chat.data.started_at);
    var params = { time: started !== null ? formatClockTime(started) : "–" };
    if (chat.gone === "closed" || chat.data.status === "closed") return t("status_closed", params);
    if (isQueued(chat)) return t("status_waiting", params);
    if (isMine(chat)) return t("status_mine", params);
    return t("status_other", params);
  }

  function renderHeader(chat) {
    $("chat-title").textContent = t("visitor") + " " + (chat.data.visitor || "");
    $("chat-tenant").textContent = chat.data.tenant_name || "";
    $("chat-language").textContent = (chat.data.tenant_language || "").toUpperCase();
    $("chat-language").hidden = !chat.data.tenant_language;
    $("chat-status").textContent = statusText(chat);
    var mine = isMine(chat) && !chat.gone;
    var queued = isQueued(chat) && !chat.gone;
    $("take-button").hidden = !queued;
    $("close-button").hidden = !mine;
    $("transfer-button").hidden = !mine;
    $("composer").hidden = !mine;
    $("waiting-note").hidden = !queued;
    var notice = $("chat-notice");
    if (chat.gone) {
      notice.textContent = chat.gone === "closed" ? t("closed_notice") : t("gone_notice");
      notice.hidden = false;
    } else {
      notice.hidden = true;
    }
    renderTransferNote(chat, mine);
    renderHeaderClock(chat);
  }

  function renderTransferNote(chat, mine) {
    var handed = mine ? transferNotes[chat.id] : null;
    $("transfer-note").hidden = !handed;
    if (!handed) return;
    $("transfer-note-by").textContent = t("transfer_note_by", { name: handed.by });
    $("transfer-note-text").textContent = handed.note;
    $("transfer-note-text").hidden = !handed.note;
  }

  function renderHeaderClock(chat) {
    var frt = frtOf(chat);
    var box = $("chat-frt");
    box.className = "frt level-" + frt.level + " state-" + frt.state;
    var clock = $("chat-frt-clock");
    var note = $("chat-frt-note");
    if (frt.state === "none") {
      clock.textContent = "–";
      note.textContent = t("frt_none");
    } else if (frt.state === "done") {
      clock.textContent = formatDuration(frt.seconds);
      note.textContent = t("frt_done", { time: formatDuration(frt.target) });
    } else if (frt.level === "late") {
      clock.textContent = formatDuration(frt.seconds);
      note.textContent = t("frt_late", { time: formatDuration(frt.seconds - frt.target) });
    } else {
      clock.textContent = formatDuration(frt.seconds);
      note.textContent = t("frt_due", { time: formatDuration(frt.target - frt.seconds) });
    }
  }

  function messageItems(chat) {
    var items = sortedMessages(chat).map(function (message) {
      return { key: "s" + message.seq, message: message, state: "sent" };
    });
    outboxOf(chat.id).forEach(function (item) {
      items.push({ key: "p" + item.client_msg_id, message: item, state: "pending" });
    });
    chat.failed.forEach(function (item) {
      items.push({ key: "f" + item.client_msg_id, message: item, state: "failed" });
    });
    return items;
  }

  function buildMessageNode(chat, item) {
    var message = item.message;
    var sender = item.state === "sent" ? message.sender : "agent";
    var node = make("li", "msg msg-" + sender);
    var bubble = make("div", "msg-bubble");
    bubble.append(make("p", "msg-body", message.body));
    var meta = make("div", "msg-meta");
    if (sender === "agent") meta.append(make("span", "msg-author", message.agent_name || agent.name || ""));
    var at = parseTime(message.created_at);
    if (at !== null) {
      var time = make("time", "msg-time", formatClockTime(at));
      time.dateTime = message.created_at;
      time.title = new Date(at).toLocaleString();
      meta.append(time);
    }
    var state = make("span", "msg-state");
    meta.append(state);
    if (item.state === "failed") {
      state.textContent = t("not_sent", { reason: message.reason });
      var retry = make("button", "link-button", t("retry"));
      retry.type = "button";
      retry.addEventListener("click", function () {
        retryFailed(chat, message.client_msg_id);
      });
      var discard = make("button", "link-button", t("discard"));
      discard.type = "button";
      discard.addEventListener("click", function () {
        chat.failed = chat.failed.filter(function (entry) {
          return entry.client_msg_id !== message.client_msg_id;
        });
        renderMessages();
      });
      meta.append(retry, discard);
    }
    node.append(bubble, meta);
    node.dataset.state = item.state;
    node.classList.toggle("is-pending", item.state === "pending");
    node.classList.toggle("is-failed", item.state === "failed");
    return { node: node, state: state };
  }

  function renderMessages() {
    var chat = currentId !== null ? chats.get(currentId) : null;
    var list = $("messages");
    if (!chat) {
      list.replaceChildren();
      messageNodes.clear();
      renderedChatId = null;
      return;
    }
    if (renderedChatId !== chat.id) {
      list.replaceChildren();
      messageNodes.clear();
      renderedChatId = chat.id;
    }
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    var items = messageItems(chat);
    var wanted = new Set();
    var lastDelivered = 0;
    items.forEach(function (item) {
      if (item.state === "sent" && item.message.sender === "agent" && item.message.seq <= chat.deliveredSeq) {
        lastDelivered = item.message.seq;
      }
    });
    var grewByMine = false;
    var previous = null;
    items.forEach(function (item) {
      wanted.add(item.key);
      var entry = messageNodes.get(item.key);
      if (!entry) {
        entry = buildMessageNode(chat, item);
        messageNodes.set(item.key, entry);
        if (item.state !== "sent" || item.message.sender === "agent") grewByMine = true;
      }
      if (item.state === "pending") {
        entry.state.textContent = connected ? t("sending") : t("queued_offline");
      } else if (item.state === "sent") {
        entry.state.textContent = item.message.seq === lastDelivered ? "✓ " + t("delivered") : "";
      }
      var expectedNext = previous ? previous.nextSibling : list.firstChild;
      if (entry.node !== expectedNext) list.insertBefore(entry.node, expectedNext);
      previous = entry.node;
    });
    messageNodes.forEach(function (entry, key) {
      if (!wanted.has(key)) {
        entry.node.remove();
        messageNodes.delete(key);
      }
    });
    if (!items.length) {
      list.setAttribute("data-empty", t("no_messages"));
    } else {
      list.removeAttribute("data-empty");
    }
    if (nearBottom || grewByMine) list.scrollTop = list.scrollHeight;
  }

  function renderTyping(chat) {
    var typing = $("typing");
    var active = chat && !chat.gone && chat.visitorTypingUntil > Date.now();
    typing.textContent = active ? t("visitor_typing") : "";
    typing.classList.toggle("is-active", !!active);
  }

  function renderPane() {
    var chat = currentId !== null ? chats.get(currentId) : null;
    $("pane-empty").hidden = !!chat;
    $("chat").hidden = !chat;
    if (!chat) {
      renderMessages();
      return;
    }
    renderHeader(chat);
    renderMessages();
    renderTyping(chat);
  }

  function renderChat(chat) {
    if (chat.dom && listed.has(chat.id)) {
      var position = visibleOrder().indexOf(chat.id);
      updateItem(chat, position);
    }
    if (chat.id === currentId) renderPane();
    renderTitle();
  }

  function renderAll() {
    renderPresence();
    renderLists();
    renderPane();
    renderTitle();
    // The chat being transferred left this agent some other way (closed, returned to the queue, another tab).
    if (transferDialogOpen() && !transferring.pending && mineIds.indexOf(transferring.chatId) === -1) {
      $("transfer-dialog").close();
    }
  }

  function tick() {
    chats.forEach(function (chat) {
      if (listed.has(chat.id)) {
        updateClock(chat);
        if (chat.visitorTypingUntil && chat.visitorTypingUntil <= Date.now()) {
          chat.visitorTypingUntil = 0;
          renderChat(chat);
        }
      }
    });
    if (currentId !== null && chats.has(currentId)) {
      renderHeaderClock(chats.get(currentId));
      renderTyping(chats.get(currentId));
    }
    updateBanner();
  }

  // ---------------------------------------------------------------- toasts

  function toast(text, kind) {
    var box = $("toasts");
    var node = make("div", "toast" + (kind ? " toast-" + kind : ""), text);
    box.append(node);
    window.setTimeout(function () {
      node.classList.add("is-leaving");
      window.setTimeout(function () {
        node.remove();
      }, 300);
    }, kind === "error" ? 7000 : 3500);
  }

  // ---------------------------------------------------------------- actions

  function selectChat(id, options) {
    options = options || {};
    var previousId = currentId;
    if (previousId !== null && previousId !== id) {
      drafts.set(previousId, $("composer-input").value);
      stopTyping();
    }
    currentId = id;
    if (previousId !== id) {
      $("composer-input").value = id !== null ? drafts.get(id) || "" : "";
      autoGrow();
    }
    if (id !== null) {
      var chat = ensureChat(id);
      ensureOpen(id);
      markRead(chat);
    }
    // Drop chats that ended and are no longer in view.
    chats.forEach(function (chat) {
      if (chat.gone && chat.id !== currentId) {
        chats.delete(chat.id);
      }
    });
    renderLists();
    renderPane();
    renderTitle();
    if (options.focus && id !== null) focusChat();
  }

  function focusChat() {
    var chat = chats.get(currentId);
    if (!chat) return;
    if (isMine(chat) && !chat.gone) focusComposer();
    else if (isQueued(chat) && !chat.gone) $("take-button").focus();
    else if (chat.dom && chat.dom.row.isConnected) chat.dom.button.focus();
    else $("messages").focus();
  }

  function focusComposer() {
    var input = $("composer-input");
    if (!$("composer").hidden) input.focus();
  }

  function moveSelection(step) {
    var order = visibleOrder();
    if (!order.length) return;
    var index = order.indexOf(currentId);
    var next = index === -1 ? (step > 0 ? 0 : order.length - 1) : (index + step + order.length) % order.length;
    jumpTo(order[next]);
  }

  // Jumping lands on the chat's next step: the reply box of one's own chat, the Take button of a waiting one.
  function jumpTo(id) {
    selectChat(id, { focus: true });
  }

  function takeChat(id) {
    unlockAudio();
    if (!send({ type: "take", conversation: id }, { conversation: id })) {
      toast(t("offline_action"), "error");
      return;
    }
    if (currentId !== id) selectChat(id, {});
  }

  function sendReply() {
    var input = $("composer-input");
    var chat = chats.get(currentId);
    if (!chat || chat.gone || !isMine(chat)) return;
    var body = input.value;
    if (!body.trim()) return;
    var item = {
      conversation: chat.id,
      client_msg_id: newClientMsgId(),
      body: body,
      created_at: new Date().toISOString(),
    };
    outbox.push(item);
    store("outbox", outbox);
    input.value = "";
    drafts.delete(chat.id);
    autoGrow();
    stopTyping();
    sendOutboxItem(item);
    renderMessages();
  }

  function retryFailed(chat, clientMsgId) {
    var item = chat.failed.find(function (entry) {
      return entry.client_msg_id === clientMsgId;
    });
    if (!item) return;
    chat.failed = chat.failed.filter(function (entry) {
      return entry !== item;
    });
    var again = {
      conversation: chat.id,
      client_msg_id: item.client_msg_id,
      body: item.body,
      created_at: new Date().toISOString(),
    };
    outbox.push(again);
    store("outbox", outbox);
    sendOutboxItem(again);
    renderMessages();
  }

  function noteTyping() {
    var chat = chats.get(currentId);
    if (!chat || !isMine(chat) || chat.gone) return;
    var now = Date.now();
    if (typingSent.conversation !== chat.id || now - typingSent.at > TYPING_RESEND_MS) {
      if (send({ type: "typing", conversation: chat.id, active: true })) {
        typingSent.conversation = chat.id;
        typingSent.at = now;
      }
    }
    window.clearTimeout(typingSent.idleTimer);
    typingSent.idleTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    window.clearTimeout(typingSent.idleTimer);
    if (typingSent.conversation !== null) {
      send({ type: "typing", conversation: typingSent.conversation, active: false });
      typingSent.conversation = null;
      typingSent.at = 0;
    }
  }

  function autoGrow() {
    var input = $("composer-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 180) + "px";
  }

  function openCloseDialog() {
    var chat = chats.get(currentId);
    if (!chat || !isMine(chat)) return;
    $("close-summary").value = "";
    $("close-outcome").selectedIndex = 0;
    var dialog = $("close-dialog");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    $("close-outcome").focus();
  }

  function confirmClose() {
    var chat = chats.get(currentId);
    if (!chat) return;
    var frame = {
      type: "close",
      conversation: chat.id,
      outcome: $("close-outcome").value,
      summary: $("close-summary").value,
    };
    if (!send(frame, { conversation: chat.id })) {
      toast(t("offline_action"), "error");
      return;
    }
    chat.closing = true;
    stopTyping();
  }

  // ---------------------------------------------------------------- transfer to a colleague

  var transferredHere = new Set(); // chats this console handed on, so their "withdrawn" frame says nothing more

  function transferDialogOpen() {
    return $("transfer-dialog").open;
  }

  function loadLabel(count) {
    var forms = STRINGS.transfer_load;
    return Array.isArray(forms) && typeof forms[count] === "string" ? forms[count] : String(count);
  }

  function openTransferDialog() {
    var chat = chats.get(currentId);
    if (!chat || !isMine(chat) || chat.gone) return;
    transferring.chatId = chat.id;
    transferring.colleagues = null;
    transferring.pending = null;
    $("transfer-note-input").value = "";
    showTransferError("");
    renderColleagues();
    var dialog = $("transfer-dialog");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    // The heading takes focus until the list arrives; then the first colleague does.
    $("transfer-dialog-title").focus();
    // Offline, the list stays "looking" and is asked for again as soon as the connection is back.
    if (!askColleagues()) showTransferError(t("offline_action"));
  }

  function askColleagues() {
    return send({ type: "colleagues", conversation: transferring.chatId }, { conversation: transferring.chatId });
  }

  function onColleagues(frame) {
    if (!transferDialogOpen() || frame.conversation !== transferring.chatId) return;
    transferring.colleagues = (frame.agents || []).filter(function (colleague) {
      return colleague.id !== agent.id;
    });
    renderColleagues();
    var active = document.activeElement;
    if (active === $("transfer-dialog-title") || active === document.body || active === $("transfer-dialog")) {
      var box = $("transfer-colleagues");
      var first = box.querySelector("input:checked") || box.querySelector("input");
      (first || $("transfer-cancel")).focus();
    }
  }

  function renderColleagues() {
    var box = $("transfer-colleagues");
    var status = $("transfer-status");
    var list = transferring.colleagues;
    var checked = box.querySelector("input:checked");
    var keep = checked ? Number(checked.value) : null;
    box.replaceChildren();
    status.classList.toggle("is-empty", list !== null && !list.length);
    if (list === null || !list.length) {
      status.textContent = list === null ? t("transfer_loading") : t("transfer_empty");
      status.hidden = false;
    } else {
      status.textContent = "";
      status.hidden = true;
      list.forEach(function (colleague) {
        var label = make("label", "colleague");
        var input = make("input");
        input.type = "radio";
        input.name = "colleague";
        input.value = String(colleague.id);
        input.checked = colleague.id === keep;
        label.append(
          input,
          make("span", "colleague-name", colleague.name),
          make("span", "colleague-load", loadLabel(colleague.load))
        );
        box.append(label);
      });
    }
    box.setAttribute("aria-busy", list === null ? "true" : "false");
    renderTransferActions();
  }

  function selectedColleague() {
    var checked = $("transfer-colleagues").querySelector("input:checked");
    if (!checked || !transferring.colleagues) return null;
    var id = Number(checked.value);
    return (
      transferring.colleagues.find(function (colleague) {
        return colleague.id === id;
      }) || null
    );
  }

  function renderTransferActions() {
    var pending = !!transferring.pending;
    var button = $("transfer-confirm");
    // Enabled without a choice on purpose: pressing it then says what is missing, which a greyed-out button cannot.
    button.disabled = pending || !transferring.colleagues || !transferring.colleagues.length;
    button.textContent = pending ? t("transfer_pending") : t("transfer_confirm");
    $("transfer-colleagues")
      .querySelectorAll("input")
      .forEach(function (input) {
        input.disabled = pending;
      });
    $("transfer-note-input").readOnly = pending;
    $("transfer-dialog").classList.toggle("is-pending", pending);
  }

  function showTransferError(text) {
    $("transfer-error").textContent = text;
    $("transfer-error").hidden = !text;
  }

  function confirmTransfer() {
    if (transferring.pending) return;
    var colleague = selectedColleague();
    if (!colleague) {
      showTransferError(t("transfer_choose"));
      var first = $("transfer-colleagues").querySelector("input");
      if (first) first.focus();
      return;
    }
    var id = transferring.chatId;
    var note = $("transfer-note-input").value.trim();
    var frame = { type: "transfer", conversation: id, to_agent: colleague.id, note: note };
    if (!send(frame, { conversation: id, name: colleague.name })) {
      showTransferError(t("offline_action"));
      return;
    }
    transferring.pending = { conversation: id, name: colleague.name };
    showTransferError("");
    stopTyping();
    // Keep focus inside the dialog while its controls are disabled.
    $("transfer-dialog-title").focus();
    renderTransferActions();
  }

  function onTransferred(id, request) {
    transferring.pending = null;
    transferredHere.add(id);
    drafts.delete(id);
    if (transferDialogOpen() && transferring.chatId === id) $("transfer-dialog").close();
    renderTransferActions();
    toast(t("transfer_done", { name: (request && request.name) || "" }));
    if (currentId === id) selectChat(mineIds[0] || queueIds[0] || null, { focus: true });
  }

  function onTransferError(frame, request) {
    var isTransfer = (request && request.type === "transfer") || frame.ref === "transfer";
    if (isTransfer) transferring.pending = null;
    var key = "error_transfer_" + frame.code;
    var text = Object.prototype.hasOwnProperty.call(STRINGS, key)
      ? t(key, { name: (request && request.name) || "" })
      : t("error_default", { message: frame.message || frame.code });
    if (!transferDialogOpen()) {
      toast(text, "error");
      return;
    }
    showTransferError(text);
    if (!isTransfer) {
      transferring.colleagues = [];
      renderColleagues();
    } else if (frame.code === "transfer_refused") {
      // Whoever was chosen is no longer free: show who is, now.
      transferring.colleagues = null;
      renderColleagues();
      askColleagues();
    } else {
      renderTransferActions();
      scheduleRefresh();
    }
  }

  function onTransferConnectionLost() {
    if (transferring.pending) {
      transferring.pending = null;
      if (transferDialogOpen()) {
        showTransferError(t("transfer_connection_lost"));
        renderTransferActions();
      } else {
        toast(t("transfer_connection_lost"), "error");
      }
    } else if (transferDialogOpen() && transferring.colleagues === null) {
      showTransferError(t("offline_action"));
    }
  }

  function onWithdrawn(frame) {
    var toColleague = frame.agent && frame.agent !== agent.id;
    if (!toColleague) {
      toast(t("withdrawn_toast"));
      return;
    }
    var own = transferredHere.has(frame.conversation) ||
      (transferring.pending && transferring.pending.conversation === frame.conversation);
    if (!own) toast(t("transfer_away", { name: frame.agent_name || "" }));
  }

  function noteTransfer(frame) {
    if (frame.agent !== agent.id) return;
    transferredHere.delete(frame.conversation); // it came back: a later transfer of it is news again
    transferNotes[frame.conversation] = {
      by: frame.transferred_by || "",
      note: frame.transfer_note || "",
      at: Date.now(),
    };
    store("transfers", transferNotes);
  }

  function forgetTransferNote(id) {
    if (!transferNotes[id]) return;
    delete transferNotes[id];
    store("transfers", transferNotes);
  }

  function renderNotifyButton() {
    var button = $("notify-button");
    if (!("Notification" in window)) {
      button.hidden = true;
      return;
    }
    var permission = window.Notification.permission;
    button.hidden = false;
    button.disabled = permission !== "default";
    var label = { granted: "notifications_on", denied: "notifications_blocked" }[permission] || "notifications_enable";
    button.textContent = t(label);
    button.classList.toggle("is-on", permission === "granted");
  }

  function renderSoundButton() {
    var button = $("sound-toggle");
    button.textContent = soundOn ? t("sound_on") : t("sound_off");
    button.setAttribute("aria-pressed", soundOn ? "true" : "false");
  }

  // ---------------------------------------------------------------- wiring

  function onKeyDown(event) {
    // Behind a modal dialog the chat must not change; the dialog has the keyboard.
    if (document.querySelector("dialog[open]")) return;
    var key = event.key;
    if (event.altKey && !event.ctrlKey && !event.metaKey && (key === "ArrowUp" || key === "ArrowDown")) {
      event.preventDefault();
      moveSelection(key === "ArrowUp" ? -1 : 1);
      return;
    }
    var bracket = 0;
    if (event.code === "BracketLeft" || key === "[") bracket = -1;
    if (event.code === "BracketRight" || key === "]") bracket = 1;
    if (event.ctrlKey && !event.altKey && !event.metaKey && bracket !== 0) {
      event.preventDefault();
      moveSelection(bracket);
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey && /^Digit[1-9]$/.test(event.code)) {
      var target = visibleOrder()[Number(event.code.slice(5)) - 1];
      event.preventDefault();
      if (target !== undefined) jumpTo(target);
      return;
    }
    if (key === "Escape" && event.target === $("composer-input")) {
      event.preventDefault();
      stopTyping();
      var chat = chats.get(currentId);
      if (chat && chat.dom && chat.dom.row.isConnected) chat.dom.button.focus();
      else $("messages").focus();
    }
  }

  function wire() {
    document.addEventListener("keydown", onKeyDown);
    // Browsers start audio only after a gesture; any click or key press on the console prepares it.
    document.addEventListener("pointerdown", unlockAudio, { passive: true });
    document.addEventListener("keydown", unlockAudio);

    var input = $("composer-input");
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
        event.preventDefault();
        sendReply();
      }
    });
    input.addEventListener("input", function () {
      autoGrow();
      if (input.value.trim()) noteTyping();
      else stopTyping();
    });
    input.addEventListener("blur", stopTyping);
    $("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      sendReply();
      input.focus();
    });

    $("presence").addEventListener("change", function (event) {
      var wanted = event.target.value;
      if (!send({ type: "presence", presence: wanted })) {
        toast(t("offline_action"), "error");
        renderPresence();
        return;
      }
      document.body.setAttribute("data-presence", wanted);
    });

    $("take-button").addEventListener("click", function () {
      if (currentId !== null) takeChat(currentId);
    });
    $("close-button").addEventListener("click", openCloseDialog);
    $("close-cancel").addEventListener("click", function () {
      $("close-dialog").close();
    });
    $("close-form").addEventListener("submit", function (event) {
      event.preventDefault();
      $("close-dialog").close();
      confirmClose();
    });
    $("transfer-button").addEventListener("click", openTransferDialog);
    $("transfer-cancel").addEventListener("click", function () {
      $("transfer-dialog").close();
    });
    $("transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      confirmTransfer();
    });
    $("transfer-colleagues").addEventListener("change", function () {
      showTransferError("");
      renderTransferActions();
    });
    $("transfer-dialog").addEventListener("close", function () {
      var chat = chats.get(currentId);
      if (chat && isMine(chat) && !chat.gone && !transferring.pending) focusComposer();
    });
    $("close-dialog").addEventListener("close", function () {
      var chat = chats.get(currentId);
      if (chat && !chat.closing) focusComposer();
    });

    $("sound-toggle").addEventListener("click", function () {
      soundOn = !soundOn;
      store("sound", soundOn);
      renderSoundButton();
      if (soundOn) {
        lastBeepAt = 0;
        beep();
      }
    });
    $("notify-button").addEventListener("click", function () {
      if (!("Notification" in window)) return;
      var asked = window.Notification.requestPermission(renderNotifyButton);
      if (asked && typeof asked.then === "function") asked.then(renderNotifyButton);
    });
    $("banner-retry").addEventListener("click", function () {
      attempt = 0;
      connect();
    });

    document.addEventListener("visibilitychange", function () {
      if (currentId !== null && chats.has(currentId)) markRead(chats.get(currentId));
      renderLists();
      renderTitle();
    });
    window.addEventListener("online", function () {
      if (!connected) {
        attempt = 0;
        connect();
      }
    });
  }

  function start() {
    wire();
    renderSoundButton();
    renderNotifyButton();
    applyState(INITIAL);
    connect();
    window.setInterval(tick, 500);
  }

  // For end-to-end tests and debugging in the browser console; read-only views of the state.
  window.chatopsConsole = {
    connected: function () {
      return connected;
    },
    currentChat: function () {
      return currentId;
    },
    outboxSize: function () {
      return outbox.length;
    },
    // Close the connection as a network failure would, and stay away at least holdMs before reconnecting.
    simulateDrop: function (holdMs) {
      holdReconnectUntil = Date.now() + (holdMs || 0);
      if (socket) socket.close();
    },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
