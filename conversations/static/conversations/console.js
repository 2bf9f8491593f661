/* The agent console: one page, many chats, over the /ws/console/ WebSocket.
 *
 * The server is the source of truth: every state or welcome frame replaces the queue and the
 * agent's chat list; messages are kept per chat by sequence number, so a frame that arrives twice
 * (a push and a history after a reconnect) is shown once. Messages the agent writes wait in an
 * outbox (kept in localStorage) until the server acknowledges them, and are re-sent with the same
 * client_msg_id after a reconnect, which the server stores only once.
 *
 * Nothing is missed silently (conversations/protocol.py): a gap in a chat's sequence numbers, or a ping's
 * answer naming a higher last number than the one shown, fetches the rest with an "open" frame; a pong
 * whose lists of chats differ from the console's asks for the whole state again. The console pings every
 * 10 s and answers the server's "probe" at once (a background tab's timers may run once a minute), or
 * the server takes it for frozen and closes it.
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
  var PING_MS = 10000;
  // A visitor's page change closes one socket and opens the next: "visitor left" waits this long.
  var VISITOR_LEFT_DELAY_MS = 3000;
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
        visitorAwaySince: null,
        visitorGoneShown: false,
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

  function retryOutboxItem(clientMsgId, seconds) {
    // Spread the retries of many consoles told to wait the same time.
    var delay = (seconds || 2) * 1000 * (1 + Math.random() * 0.5);
    window.setTimeout(function () {
      var item = outbox.find(function (entry) {
        return entry.client_msg_id === clientMsgId;
      });
      if (item && connected) sendOutboxItem(item);
    }, delay);
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
      onCloseConnectionLost();
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

  function ping() {
    send({ type: "ping" });
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
      case "visitor":
        onVisitor(frame);
        break;
      case "pong":
        onPong(frame);
        break;
      case "probe":
        send({ type: "ping" });
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
      refreshNotices();
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
      onClosedByMe(closedId);
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
    if (payload.visitor_present !== false) chat.visitorAwaySince = null;
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
    if ((request && request.type === "close") || frame.ref === "close") {
      onCloseError(frame, request);
      return;
    }
    var text = errorText(frame);
    if (frame.code === "overloaded" && frame.client_msg_id) {
      // The server is saturated: the message stays in the outbox ("Sending…") and goes again shortly.
      retryOutboxItem(frame.client_msg_id, frame.retry_after);
      return;
    }
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
    if (chat.loaded && message.seq > chat.loadedThrough + 1) resync(chat);
    if (message.sender === "visitor") {
      if (inView(chat)) markRead(chat);
      else alertMessage(chat, message);
    }
    renderChat(chat);
  }

  // Fetch a chat's messages from the first one missing, through its "open" frame.
  function resync(chat) {
    if (chat.resyncing || !connected) return;
    chat.resyncing = true;
    subscribed.delete(chat.id);
    ensureOpen(chat.id);
  }

  function sameIds(ids, others) {
    return ids.length === others.length && ids.every(function (id) {
      return others.indexOf(id) !== -1;
    });
  }

  // The server's word on what this console should show: the last number of every chat it follows, and
  // the agent's chats and the queue. Anything the live feed lost shows up here.
  function onPong(frame) {
    var known = frame.conversations || {};
    Object.keys(known).forEach(function (key) {
      var chat = chats.get(Number(key));
      if (!chat || chat.gone) return;
      var last = known[key];
      if (last > (chat.data.last_seq || 0)) chat.data.last_seq = last;
      if (chat.loaded && last > chat.loadedThrough) resync(chat);
      renderChat(chat);
    });
    if (!sameIds(frame.chats || [], mineIds) || !sameIds(frame.queue || [], queueIds)) scheduleRefresh();
  }

  function onVisitor(frame) {
    var chat = chats.get(frame.conversation);
    if (!chat) return;
    chat.data.visitor_present = frame.visitor_present;
    chat.visitorAwaySince = frame.visitor_present ? null : Date.now();
    renderChat(chat);
  }

  // Whether to show that the visitor has no page with the chat open (a moment after they left it).
  function visitorGone(chat) {
    if (chat.gone || chat.data.visitor_present !== false) return false;
    return chat.visitorAwaySince === null || Date.now() - chat.visitorAwaySince >= VISITOR_LEFT_DELAY_MS;
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
    // A message left outside service hours waits for the next shift by design: no live target runs.
    if (chat.data.origin === "offline") return { state: "message", target: target, seconds: 0, level: "ok" };
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
    var left = make("span", "ci-left", t("visitor_left_tag"));
    var badge = make("span", "ci-badge");
    middle.append(visitor, left, handed, badge);
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
      preview: preview, key: key, take: take, handed: handed, left: left };
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
    dom.row.classList.toggle("visitor-left", visitorGone(chat));
    dom.left.hidden = !visitorGone(chat);
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
    var label = { running: formatDuration(frt.seconds), message: t("left_message_tag") }[frt.state];
    clock.textContent = label || "";
    clock.hidden = !label;
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
    chat.visitorGoneShown = visitorGone(chat);
    if (chat.gone) {
      var closedText = chat.data.outcome === "visitor_left" ? t("closed_visitor_left") : t("closed_notice");
      notice.textContent = chat.gone === "closed" ? closedText : t("gone_notice");
      notice.hidden = false;
    } else if (chat.visitorGoneShown) {
      notice.textContent = t("visitor_left");
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
    if (frt.state === "none" || frt.state === "message") {
      clock.textContent = "–";
      note.textContent = t(frt.state === "none" ? "frt_none" : "frt_left_message");
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
      syncWorkspace();
      return;
    }
    renderHeader(chat);
    renderMessages();
    renderTyping(chat);
    syncWorkspace();
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
    if (closeDialogOpen() && !closing.pending && mineIds.indexOf(closing.chatId) === -1) {
      $("close-dialog").close();
    }
  }

  function tick() {
    chats.forEach(function (chat) {
      if (listed.has(chat.id)) {
        updateClock(chat);
        if (chat.visitorTypingUntil && chat.visitorTypingUntil <= Date.now()) {
          chat.visitorTypingUntil = 0;
          renderChat(chat);
        } else if (visitorGone(chat) !== chat.visitorGoneShown) {
          chat.visitorGoneShown = visitorGone(chat);
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
      hideCanned();
      canned.dismissed = null;
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

  // ---------------------------------------------------------------- beside the chat: context, knowledge, visitor, notes, tags
  //
  // The panel reads /console/api/chats/<id>/… for the chat in view; every answer is checked against the chat still
  // in view before it is shown. Everything from the server reaches the page through textContent.

  var WORKSPACE = readJson("workspace-config") || {};
  var NOTICES_REFRESH_MS = 60000;
  var VISITOR_REFRESH_MS = 30000;
  var CANNED_DEBOUNCE_MS = 120;
  var SEARCH_DEBOUNCE_MS = 350;
  var SEARCH_MIN_LENGTH = 3;
  var CANNED_PREVIEW_LENGTH = 140;
  var COMPOSER_LIMIT = 4000;

  var ws = {
    chatId: null,
    controller: null,
    context: null,
    visitor: null,
    notes: null,
    tags: null,
    kbResults: null,
    kbQuery: "",
    kbRequest: 0,
    kbTimer: null,
    visitorTimer: null,
    caret: null,
  };
  var openNotices = WORKSPACE.open_notices || [];
  var canned = { open: false, token: null, items: null, active: -1, timer: null, cache: new Map(), dismissed: null,
    request: 0 };
  var closing = { chatId: null, pending: null };

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function chatApi(id, endpoint) {
    return (WORKSPACE.chat_url || "/console/api/chats/") + id + "/" + endpoint + "/";
  }

  // Resolve with the JSON answer; reject with an Error carrying the server's code, message and fields.
  function api(url, options) {
    options = options || {};
    var init = {
      method: options.method || "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    };
    if (options.signal) init.signal = options.signal;
    if (init.method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken();
      init.body = JSON.stringify(options.data || {});
    }
    return window.fetch(url, init).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          if (response.ok && data) return data;
          var error = (data && data.error) || { code: "http_" + response.status, message: String(response.status) };
          if (response.status === 401) checkSession();
          var failure = new Error(error.message || error.code);
          failure.code = error.code;
          failure.fields = error.fields || {};
          failure.status = response.status;
          throw failure;
        });
    });
  }

  function failureText(error) {
    if (error && error.name === "AbortError") return "";
    if (error && error.status) return error.message;
    return t("offline_action");
  }

  function formatWhen(value) {
    var ms = parseTime(value);
    if (ms === null) return "";
    var date = new Date(ms);
    var today = new Date();
    if (date.toDateString() === today.toDateString()) return formatClockTime(ms);
    return date.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" }) + " " + formatClockTime(ms);
  }

  function timeNode(value) {
    var node = make("time", "ws-time", formatWhen(value));
    node.dateTime = value || "";
    var ms = parseTime(value);
    if (ms !== null) node.title = new Date(ms).toLocaleString();
    return node;
  }

  function panelState(box, state, retry) {
    box.replaceChildren();
    box.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    if (state === "loading") {
      box.append(make("p", "ws-muted", t("panel_loading")));
      return;
    }
    var failed = make("p", "ws-failed", t("panel_failed", { message: state.message }));
    var again = make("button", "link-button", t("panel_retry"));
    again.type = "button";
    again.addEventListener("click", retry);
    failed.append(" ", again);
    box.append(failed);
  }

  function textBlock(className, text, emptyText) {
    var node = make("p", className + (text ? "" : " ws-muted"), text || emptyText);
    return node;
  }

  // ------------------------------------------------ which chat the panel shows

  function syncWorkspace() {
    var chat = currentId !== null ? chats.get(currentId) : null;
    $("workspace").hidden = !chat;
    document.body.classList.toggle("has-workspace", !!chat);
    if (!chat) {
      if (ws.chatId !== null) resetWorkspace(null);
      return;
    }
    if (ws.chatId !== chat.id) resetWorkspace(chat.id);
    renderInsertButtons();
  }

  function resetWorkspace(id) {
    if (ws.controller) ws.controller.abort();
    window.clearInterval(ws.visitorTimer);
    window.clearTimeout(ws.kbTimer);
    ws.chatId = id;
    ws.controller = window.AbortController ? new window.AbortController() : null;
    ws.context = ws.visitor = ws.notes = ws.tags = ws.kbResults = null;
    ws.caret = null;
    ws.kbRequest += 1;
    $("kb-results").replaceChildren();
    $("kb-status").textContent = "";
    $("notes-status").textContent = "";
    $("tags-status").textContent = "";
    if (id === null) return;
    loadContext();
    loadVisitor();
    loadNotes();
    loadTags();
    ws.visitorTimer = window.setInterval(function () {
      loadVisitor({ quiet: true });
    }, VISITOR_REFRESH_MS);
    var query = $("kb-query").value.trim();
    if (query) searchKnowledge(query);
  }

  function loadPanel(endpoint, apply, options) {
    var id = ws.chatId;
    var signal = ws.controller ? ws.controller.signal : undefined;
    return api(chatApi(id, endpoint), { signal: signal })
      .then(function (data) {
        if (ws.chatId === id) apply(data);
      })
      .catch(function (error) {
        if (ws.chatId !== id || (error && error.name === "AbortError")) return;
        if (!(options && options.quiet)) apply({ error: { message: failureText(error) } });
      });
  }

  function loadContext() {
    panelState($("ws-client"), "loading");
    loadPanel("context", function (data) {
      ws.context = data;
      renderContext();
    });
  }

  function loadVisitor(options) {
    if (!(options && options.quiet)) panelState($("ws-visitor"), "loading");
    loadPanel(
      "visitor",
      function (data) {
        ws.visitor = data;
        renderVisitor();
      },
      options
    );
  }

  function loadNotes() {
    loadPanel("notes", function (data) {
      ws.notes = data;
      renderNotes();
    });
  }

  function loadTags() {
    loadPanel("tags", function (data) {
      ws.tags = data;
      renderTags();
    });
  }

  // ------------------------------------------------ the tenant's context card and change notices

  function renderContext() {
    var box = $("ws-client");
    var card = ws.context;
    var chat = chats.get(ws.chatId);
    $("ws-client-name").textContent = card && card.tenant ? card.tenant.name : (chat && chat.data.tenant_name) || "";
    if (!card) return panelState(box, "loading");
    if (card.error) return panelState(box, card.error, loadContext);
    box.replaceChildren();
    box.setAttribute("aria-busy", "false");
    var tenant = card.tenant;
    var badges = make("p", "ws-badges");
    var toneKey = "tone_" + tenant.tone;
    badges.append(make("span", "badge badge-tone tone-" + tenant.tone, STRINGS[toneKey] ? t(toneKey) : tenant.tone_label));
    tenant.goals.forEach(function (goal) {
      badges.append(make("span", "badge badge-goal", goal.label));
    });
    if (!tenant.goals.length) badges.append(make("span", "badge badge-muted", t("no_goals")));
    box.append(badges);
    box.append(make("h3", "ws-subheading", t("card_style")));
    box.append(textBlock("ws-text", tenant.style_notes, t("no_style_notes")));
    box.append(make("h3", "ws-subheading", t("card_escalation")));
    box.append(textBlock("ws-text", tenant.escalation_rules, t("no_escalation_rules")));
    box.append(make("h3", "ws-subheading", t("card_notices")));
    if (!card.notices.length) {
      box.append(make("p", "ws-muted", t("notices_none")));
    } else {
      var list = make("ul", "card-notices");
      card.notices.forEach(function (notice) {
        list.append(noticeItem(notice, "card"));
      });
      box.append(list);
    }
  }

  function noticeItem(notice, where) {
    var item = make("li", "notice-item" + (notice.acknowledged ? " is-read" : " is-unread"));
    item.dataset.notice = String(notice.id);
    var head = make("p", "notice-head");
    if (!notice.acknowledged) head.append(make("span", "badge badge-new", t("notice_new")));
    head.append(make("strong", "notice-title", notice.title));
    var meta = make("p", "notice-meta");
    if (where === "dialog") meta.append(make("span", "notice-tenant", notice.tenant_name), " · ");
    meta.append(timeNode(notice.created_at));
    item.append(head, meta, make("p", "notice-body", notice.body));
    if (notice.acknowledged) {
      item.append(make("p", "notice-read", t("notice_acknowledged", { time: formatWhen(notice.acknowledged_at) })));
    } else {
      var button = make("button", "button small notice-ack", t("notice_acknowledge"));
      button.type = "button";
      button.addEventListener("click", function () {
        acknowledgeNotice(notice.id, button);
      });
      item.append(button);
    }
    return item;
  }

  function acknowledgeNotice(noticeId, button) {
    button.disabled = true;
    api(WORKSPACE.notices_url + noticeId + "/acknowledge/", { method: "POST" })
      .then(function (data) {
        openNotices = openNotices.filter(function (notice) {
          return notice.id !== noticeId;
        });
        if (ws.context && ws.context.notices) {
          ws.context.notices = ws.context.notices.map(function (notice) {
            return notice.id === noticeId ? data.notice : notice;
          });
          renderContext();
        }
        renderNag();
      })
      .catch(function (error) {
        button.disabled = false;
        toast(t("notice_ack_failed", { message: failureText(error) }), "error");
      });
  }

  function renderNag() {
    var count = openNotices.length;
    $("notice-nag").hidden = count === 0;
    document.body.classList.toggle("has-open-notices", count > 0);
    if (count) {
      var titles = openNotices.slice(0, 3).map(function (notice) {
        return notice.title;
      });
      $("notice-nag-text").textContent = t("notices_banner", {
        count: count,
        titles: titles.join(" · ") + (count > 3 ? " …" : ""),
      });
    }
    if ($("notices-dialog").open) renderNoticesDialog();
  }

  function refreshNotices() {
    if (!WORKSPACE.notices_url) return;
    api(WORKSPACE.notices_url)
      .then(function (data) {
        openNotices = data.notices || [];
        renderNag();
      })
      .catch(function () {
        /* Keep nagging with what we know; the next refresh tries again. */
      });
  }

  function openNoticesDialog() {
    renderNoticesDialog();
    var dialog = $("notices-dialog");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    var first = dialog.querySelector(".notice-ack");
    (first || $("notices-close")).focus();
  }

  function renderNoticesDialog() {
    var list = $("notices-list");
    var focused = document.activeElement && list.contains(document.activeElement);
    list.replaceChildren();
    openNotices.forEach(function (notice) {
      list.append(noticeItem(notice, "dialog"));
    });
    $("notices-status").textContent = openNotices.length ? "" : t("notices_dialog_empty");
    if (focused) {
      var next = list.querySelector(".notice-ack");
      (next || $("notices-close")).focus();
    }
  }

  // ------------------------------------------------ knowledge base

  function searchKnowledge(query) {
    var id = ws.chatId;
    var request = (ws.kbRequest += 1);
    window.clearTimeout(ws.kbTimer);
    query = query.trim();
    if (!query || id === null) {
      ws.kbResults = null;
      renderKnowledge();
      return;
    }
    $("kb-status").textContent = t("search_searching");
    $("kb-results").setAttribute("aria-busy", "true");
    api(chatApi(id, "search") + "?q=" + encodeURIComponent(query))
      .then(function (data) {
        if (request !== ws.kbRequest || ws.chatId !== id) return;
        ws.kbResults = data.results || [];
        ws.kbQuery = query;
        renderKnowledge();
      })
      .catch(function (error) {
        if (request !== ws.kbRequest || ws.chatId !== id) return;
        $("kb-results").setAttribute("aria-busy", "false");
        $("kb-status").textContent = t("search_failed", { message: failureText(error) });
      });
  }

  function renderKnowledge() {
    var list = $("kb-results");
    list.replaceChildren();
    list.setAttribute("aria-busy", "false");
    if (ws.kbResults === null) {
      $("kb-status").textContent = "";
      return;
    }
    $("kb-status").textContent = ws.kbResults.length
      ? t("search_count", { count: ws.kbResults.length })
      : t("search_none", { query: ws.kbQuery });
    ws.kbResults.forEach(function (hit) {
      var item = make("li", "kb-hit");
      var head = make("div", "kb-hit-head");
      var title = make("h3", "kb-title", hit.title);
      var insert = make("button", "button small kb-insert", t("search_insert"));
      insert.type = "button";
      insert.setAttribute("aria-label", t("search_insert_label", { title: hit.title }));
      insert.addEventListener("click", function () {
        if (insertIntoComposer(hit.text)) $("kb-status").textContent = t("search_inserted");
      });
      head.append(title, insert);
      var snippet = make("p", "kb-snippet");
      (hit.snippet || []).forEach(function (piece) {
        snippet.append(piece.hit ? make("mark", null, piece.text) : document.createTextNode(piece.text));
      });
      var more = make("details", "kb-more");
      more.append(make("summary", null, t("search_show_all")), make("p", "kb-text", hit.text));
      item.append(head, snippet, more);
      list.append(item);
    });
    renderInsertButtons();
  }

  function canInsert() {
    var chat = currentId !== null ? chats.get(currentId) : null;
    return !!chat && isMine(chat) && !chat.gone && !$("composer").hidden;
  }

  function renderInsertButtons() {
    var allowed = canInsert();
    document.querySelectorAll(".kb-insert").forEach(function (button) {
      // aria-disabled rather than disabled: the button stays focusable and says why on a click.
      button.setAttribute("aria-disabled", allowed ? "false" : "true");
      button.title = allowed ? "" : t("search_insert_unavailable");
    });
  }

  // Put text into the reply box where the agent left the caret (or at the end), and give it the focus.
  function insertIntoComposer(text, range) {
    if (!canInsert()) {
      toast(t("search_insert_unavailable"), "error");
      return false;
    }
    var input = $("composer-input");
    var value = input.value;
    var where = range || (document.activeElement === input
      ? { start: input.selectionStart, end: input.selectionEnd }
      : ws.caret || { start: value.length, end: value.length });
    var before = value.slice(0, where.start);
    var after = value.slice(where.end);
    var glue = before && !/\s$/.test(before) ? " " : "";
    var inserted = (before + glue + text).slice(0, COMPOSER_LIMIT);
    input.value = (inserted + after).slice(0, COMPOSER_LIMIT);
    input.focus();
    input.setSelectionRange(inserted.length, inserted.length);
    ws.caret = null;
    drafts.set(currentId, input.value);
    autoGrow();
    noteTyping();
    return true;
  }

  // ------------------------------------------------ canned responses: "/" + shortcut in the reply box

  function cannedToken() {
    var input = $("composer-input");
    if (input.selectionStart !== input.selectionEnd) return null;
    var before = input.value.slice(0, input.selectionStart);
    var match = /(^|\s)\/([\w-]{0,40})$/.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, end: before.length, prefix: match[2] };
  }

  function updateCanned() {
    var token = canInsert() ? cannedToken() : null;
    if (!token) {
      canned.dismissed = null;
      hideCanned();
      return;
    }
    if (canned.dismissed === token.start) return;
    canned.token = token;
    var chatId = currentId;
    var key = chatId + ":" + token.prefix.toLowerCase();
    if (canned.cache.has(key)) {
      showCanned(canned.cache.get(key));
      return;
    }
    if (!canned.open) showCanned(null);
    window.clearTimeout(canned.timer);
    canned.timer = window.setTimeout(function () {
      var request = (canned.request += 1);
      api(chatApi(chatId, "canned") + "?prefix=" + encodeURIComponent(token.prefix))
        .then(function (data) {
          canned.cache.set(key, data.results || []);
          if (request === canned.request && chatId === currentId) updateCanned();
        })
        .catch(function (error) {
          if (request !== canned.request || !canned.open) return;
          $("canned-status").textContent = failureText(error);
        });
    }, CANNED_DEBOUNCE_MS);
  }

  function showCanned(items) {
    var input = $("composer-input");
    var same = canned.open && items !== null && items === canned.items;
    canned.open = true;
    canned.items = items;
    if (!same) canned.active = items && items.length ? 0 : -1;
    var list = $("canned-list");
    list.replaceChildren();
    (items || []).forEach(function (item, index) {
      var option = make("li", "canned-option");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.append(
        make("span", "canned-shortcut", "/" + item.shortcut),
        make("span", "canned-text", item.text.replace(/\s+/g, " ").slice(0, CANNED_PREVIEW_LENGTH))
      );
      // mousedown, not click: the reply box keeps its focus and caret.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insertCanned(item);
      });
      list.append(option);
    });
    if (items === null) $("canned-status").textContent = t("panel_loading");
    else if (!items.length) $("canned-status").textContent = t("canned_none", { prefix: canned.token.prefix });
    else $("canned-status").textContent = "";
    $("canned").hidden = false;
    input.setAttribute("aria-expanded", "true");
    renderCannedActive();
  }

  function renderCannedActive() {
    var input = $("composer-input");
    $("canned-list")
      .querySelectorAll(".canned-option")
      .forEach(function (option, index) {
        var active = index === canned.active;
        option.setAttribute("aria-selected", active ? "true" : "false");
        option.classList.toggle("is-active", active);
        if (active) option.scrollIntoView({ block: "nearest" });
      });
    if (canned.active >= 0) input.setAttribute("aria-activedescendant", "canned-option-" + canned.active);
    else input.removeAttribute("aria-activedescendant");
  }

  function hideCanned() {
    window.clearTimeout(canned.timer);
    canned.open = false;
    canned.items = null;
    canned.active = -1;
    $("canned").hidden = true;
    $("canned-list").replaceChildren();
    $("composer-input").setAttribute("aria-expanded", "false");
    $("composer-input").removeAttribute("aria-activedescendant");
  }

  function dismissCanned() {
    if (canned.token) canned.dismissed = canned.token.start;
    hideCanned();
  }

  function insertCanned(item) {
    var token = canned.token;
    hideCanned();
    canned.dismissed = null;
    if (token) insertIntoComposer(item.text, { start: token.start, end: token.end });
  }

  // Keys in the reply box while the list is open; return true when the key was used here.
  function onCannedKey(event) {
    if (!canned.open || event.isComposing) return false;
    var count = canned.items ? canned.items.length : 0;
    var key = event.key;
    if ((key === "ArrowDown" || key === "ArrowUp") && count) {
      event.preventDefault();
      canned.active = (canned.active + (key === "ArrowDown" ? 1 : -1) + count) % count;
      renderCannedActive();
      return true;
    }
    if ((key === "Enter" || key === "Tab") && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      if (count && canned.active >= 0) {
        event.preventDefault();
        insertCanned(canned.items[canned.active]);
        return true;
      }
      if (key === "Enter") {
        // Nothing to insert: close the list rather than send "/something" to the visitor.
        event.preventDefault();
        dismissCanned();
        return true;
      }
      return false;
    }
    if (key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      dismissCanned();
      return true;
    }
    return false;
  }

  // ------------------------------------------------ the visitor

  function pageLink(page) {
    var label = page.title || page.url;
    if (!/^https?:\/\//i.test(page.url)) return make("span", "page-link", label);
    var link = make("a", "page-link", label);
    link.href = page.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.title = page.url;
    return link;
  }

  function renderVisitor() {
    var box = $("ws-visitor");
    var data = ws.visitor;
    if (!data) return panelState(box, "loading");
    if (data.error) return panelState(box, data.error, loadVisitor);
    box.replaceChildren();
    box.setAttribute("aria-busy", "false");
    var visitor = data.visitor;
    var badges = make("p", "ws-badges");
    badges.append(
      make(
        "span",
        "badge " + (visitor.returning ? "badge-returning" : "badge-new-visitor"),
        visitor.returning ? t("visitor_returning") : t("visitor_new")
      ),
      make("span", "ws-muted", t("visitor_first_seen", { time: formatWhen(visitor.first_seen_at) }))
    );
    box.append(badges);
    var contact = make("dl", "visitor-contact");
    [
      ["visitor_name", visitor.name],
      ["visitor_email", visitor.email],
      ["visitor_phone", visitor.phone],
    ].forEach(function (pair) {
      if (!pair[1]) return;
      contact.append(make("dt", null, t(pair[0])), make("dd", null, pair[1]));
    });
    if (contact.children.length) box.append(contact);
    var now = make("p", "visitor-now");
    now.append(make("span", "ws-label", t("visitor_current_page")), " ");
    if (data.current_page) now.append(pageLink(data.current_page));
    else now.append(make("span", "ws-muted", t("visitor_no_page")));
    box.append(now);
    if (data.visit_pages.length) {
      box.append(make("h3", "ws-subheading", t("visitor_pages")));
      var pages = make("ol", "visit-pages");
      data.visit_pages.forEach(function (page) {
        var item = make("li");
        item.append(pageLink(page), " ", timeNode(page.viewed_at));
        pages.append(item);
      });
      box.append(pages);
    }
    box.append(make("h3", "ws-subheading", t("visitor_earlier")));
    if (!data.earlier.length) {
      box.append(make("p", "ws-muted", t("visitor_no_earlier")));
      return;
    }
    var earlier = make("ol", "earlier-chats");
    data.earlier.forEach(function (other) {
      var item = make("li", "earlier-chat");
      var head = make("p", "earlier-head");
      head.append(
        timeNode(other.started_at),
        " ",
        make("span", "badge badge-outcome outcome-" + (other.outcome || "open"), other.outcome_label || t("visitor_open_chat"))
      );
      if (other.agent_name) head.append(" ", make("span", "ws-muted", other.agent_name));
      item.append(head);
      if (other.summary) item.append(make("p", "earlier-summary", other.summary));
      if (other.tags.length) item.append(make("p", "earlier-tags ws-muted", other.tags.map(function (tag) {
        return "#" + tag;
      }).join(" ")));
      earlier.append(item);
    });
    box.append(earlier);
    if (data.earlier_count > data.earlier.length) {
      box.append(make("p", "ws-muted", t("visitor_more_earlier", { count: data.earlier_count - data.earlier.length })));
    }
  }

  // ------------------------------------------------ private notes

  function renderNotes() {
    var list = $("notes-list");
    list.replaceChildren();
    var data = ws.notes;
    if (!data) return;
    if (data.error) {
      var failed = make("li", "ws-failed", t("panel_failed", { message: data.error.message }));
      var again = make("button", "link-button", t("panel_retry"));
      again.type = "button";
      again.addEventListener("click", loadNotes);
      failed.append(" ", again);
      list.append(failed);
      return;
    }
    if (!data.notes.length) {
      list.append(make("li", "ws-muted notes-empty", t("notes_none")));
      return;
    }
    data.notes.forEach(function (note) {
      var item = make("li", "note" + (note.mine ? " is-mine" : ""));
      var meta = make("p", "note-meta");
      meta.append(make("span", "note-author", note.agent_name), " · ", timeNode(note.created_at));
      item.append(make("p", "note-body", note.body), meta);
      list.append(item);
    });
  }

  function saveNote() {
    var input = $("note-input");
    var body = input.value.trim();
    var id = ws.chatId;
    if (!body || id === null) {
      input.focus();
      return;
    }
    $("note-submit").disabled = true;
    api(chatApi(id, "notes"), { method: "POST", data: { body: body } })
      .then(function (data) {
        if (ws.chatId !== id) return;
        input.value = "";
        if (ws.notes && ws.notes.notes) ws.notes.notes.push(data.note);
        else ws.notes = { notes: [data.note] };
        renderNotes();
        $("notes-status").textContent = t("note_saved");
      })
      .catch(function (error) {
        var message = (error.fields && error.fields.body && error.fields.body[0]) || failureText(error);
        $("notes-status").textContent = t("note_failed", { message: message });
      })
      .then(function () {
        $("note-submit").disabled = false;
      });
  }

  // ------------------------------------------------ tags

  function renderTags() {
    var list = $("tags-list");
    var focusedName = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.dataset.tag
      : null;
    list.replaceChildren();
    var data = ws.tags;
    if (!data) return;
    if (data.error) {
      $("tags-status").textContent = t("panel_failed", { message: data.error.message });
      return;
    }
    if (!data.tags.length) list.append(make("li", "ws-muted tags-empty", t("tags_none")));
    data.tags.forEach(function (name) {
      var chip = make("li", "tag");
      var remove = make("button", "tag-remove", "×");
      remove.type = "button";
      remove.dataset.tag = name;
      remove.setAttribute("aria-label", t("tag_remove", { tag: name }));
      remove.addEventListener("click", function () {
        saveTags(
          ws.tags.tags.filter(function (tag) {
            return tag !== name;
          })
        );
      });
      chip.append(make("span", "tag-name", name), remove);
      list.append(chip);
    });
    var suggestions = $("tag-suggestions");
    suggestions.replaceChildren();
    data.suggestions.forEach(function (name) {
      var option = make("option");
      option.value = name;
      suggestions.append(option);
    });
    if (focusedName !== null) {
      var next = list.querySelector(".tag-remove");
      (next || $("tag-input")).focus();
    }
  }

  function saveTags(names) {
    var id = ws.chatId;
    if (id === null) return;
    api(chatApi(id, "tags"), { method: "POST", data: { tags: names } })
      .then(function (data) {
        if (ws.chatId !== id) return;
        ws.tags = data;
        $("tags-status").textContent = "";
        renderTags();
      })
      .catch(function (error) {
        var message = (error.fields && error.fields.tags && error.fields.tags[0]) || failureText(error);
        $("tags-status").textContent = t("tags_failed", { message: message });
      });
  }

  function addTagFromInput() {
    var input = $("tag-input");
    var names = input.value
      .split(",")
      .map(function (name) {
        return name.trim();
      })
      .filter(Boolean);
    if (!names.length || !ws.tags || !ws.tags.tags) return;
    input.value = "";
    saveTags(ws.tags.tags.concat(names));
  }

  // ---------------------------------------------------------------- closing a chat with its outcome

  var CLOSE_GROUPS = {
    lead: ["name", "email", "phone", "wants"],
    handoff: ["visitor_name", "visitor_email", "visitor_phone", "promise", "promised_by"],
  };

  function closeDialogOpen() {
    return $("close-dialog").open;
  }

  function valueOf(id) {
    return $(id).value.trim();
  }

  function closeFieldId(key) {
    if (key === "outcome") return "close-outcome";
    if (key === "summary" || key === "handoff.summary") return "close-summary";
    var parts = key.split(".");
    if (parts.length === 2 && CLOSE_GROUPS[parts[0]] && CLOSE_GROUPS[parts[0]].indexOf(parts[1]) !== -1) {
      return "close-" + parts[0] + "-" + parts[1];
    }
    return null;
  }

  function localDate(date) {
    var pad = function (number) {
      return (number < 10 ? "0" : "") + number;
    };
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  function openCloseDialog() {
    var chat = chats.get(currentId);
    if (!chat || !isMine(chat) || chat.gone) return;
    closing.chatId = chat.id;
    closing.pending = null;
    $("close-form").reset();
    clearCloseErrors();
    // What the panel knows of the visitor saves typing; the agent can change it.
    var visitor = ws.chatId === chat.id && ws.visitor && ws.visitor.visitor ? ws.visitor.visitor : {};
    $("close-lead-name").value = $("close-handoff-visitor_name").value = visitor.name || "";
    $("close-lead-email").value = $("close-handoff-visitor_email").value = visitor.email || "";
    $("close-lead-phone").value = $("close-handoff-visitor_phone").value = visitor.phone || "";
    var tenant = ws.chatId === chat.id && ws.context && ws.context.tenant ? ws.context.tenant : null;
    $("close-escalation-rules").hidden = !(tenant && tenant.escalation_rules);
    $("close-escalation-rules-text").textContent = tenant ? tenant.escalation_rules : "";
    $("close-handoff-zone").textContent = tenant ? t("close_zone", { zone: tenant.time_zone }) : "";
    $("close-handoff-promised_by").min = localDate(new Date());
    renderCloseOutcome();
    renderCloseActions();
    var dialog = $("close-dialog");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    $("close-outcome").focus();
  }

  function renderCloseOutcome() {
    var outcome = $("close-outcome").value;
    $("close-lead").hidden = outcome !== "lead";
    $("close-handoff").hidden = outcome !== "escalated";
    var label = $("close-summary-label");
    var escalated = outcome === "escalated";
    label.textContent = escalated ? t("close_summary_escalated") + " " : t("close_summary_label");
    if (escalated) {
      var star = make("span", "required", "*");
      star.setAttribute("aria-hidden", "true");
      label.append(star);
    }
    $("close-summary").required = escalated;
  }

  function renderCloseActions() {
    var pending = !!closing.pending;
    var button = $("close-confirm");
    button.disabled = pending;
    button.textContent = pending ? t("close_pending") : t("close_confirm");
    $("close-dialog").classList.toggle("is-pending", pending);
  }

  function closeFrame() {
    var outcome = $("close-outcome").value;
    var frame = { type: "close", conversation: closing.chatId, outcome: outcome, summary: valueOf("close-summary") };
    if (outcome === "lead") {
      frame.lead = {
        name: valueOf("close-lead-name"),
        email: valueOf("close-lead-email"),
        phone: valueOf("close-lead-phone"),
        wants: valueOf("close-lead-wants"),
      };
    }
    if (outcome === "escalated") {
      var date = valueOf("close-handoff-promised_by");
      var time = valueOf("close-handoff-promised_time");
      frame.handoff = {
        summary: frame.summary,
        visitor_name: valueOf("close-handoff-visitor_name"),
        visitor_email: valueOf("close-handoff-visitor_email"),
        visitor_phone: valueOf("close-handoff-visitor_phone"),
        promise: valueOf("close-handoff-promise"),
        promised_by: date && time ? date + "T" + time : date,
      };
    }
    return frame;
  }

  // The same rules as the server's, to answer at once; the server has the last word.
  function checkClose(frame) {
    var errors = {};
    if (!frame.outcome) errors.outcome = t("close_choose_outcome");
    if (frame.lead) {
      if (!frame.lead.wants) errors["lead.wants"] = t("close_required");
      if (frame.lead.email && !$("close-lead-email").checkValidity()) errors["lead.email"] = t("close_email_invalid");
      else if (!frame.lead.email && !frame.lead.phone) errors["lead.email"] = t("close_contact_required");
    }
    if (frame.handoff) {
      if (!frame.handoff.summary) errors["handoff.summary"] = t("close_required");
      if (frame.handoff.visitor_email && !$("close-handoff-visitor_email").checkValidity()) {
        errors["handoff.visitor_email"] = t("close_email_invalid");
      } else if (!frame.handoff.visitor_email && !frame.handoff.visitor_phone) {
        errors["handoff.visitor_email"] = t("close_contact_required");
      }
      if (!frame.handoff.promise) errors["handoff.promise"] = t("close_required");
      if (!frame.handoff.promised_by) errors["handoff.promised_by"] = t("close_date_required");
    }
    return errors;
  }

  function clearCloseErrors() {
    $("close-error").hidden = true;
    $("close-error").textContent = "";
    $("close-form")
      .querySelectorAll(".field-error")
      .forEach(function (node) {
        node.hidden = true;
        node.textContent = "";
      });
    $("close-form")
      .querySelectorAll("[aria-invalid]")
      .forEach(function (node) {
        node.removeAttribute("aria-invalid");
      });
  }

  // Show each message beside its field ("lead.email" → the lead's e-mail box); the rest above the form.
  function showCloseErrors(errors, general) {
    clearCloseErrors();
    var first = null;
    var elsewhere = [];
    Object.keys(errors).forEach(function (key) {
      var text = [].concat(errors[key]).join(" ");
      var id = closeFieldId(key);
      var note = id ? $(id + "-error") : null;
      if (!note) {
        elsewhere.push(text);
        return;
      }
      note.textContent = note.textContent ? note.textContent + " " + text : text;
      note.hidden = false;
      $(id).setAttribute("aria-invalid", "true");
      if (!first || $(id).compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) first = $(id);
    });
    var summary = [general].concat(elsewhere).filter(Boolean).join(" ");
    $("close-error").textContent = summary;
    $("close-error").hidden = !summary;
    (first || $("close-dialog-title")).focus();
  }

  function confirmClose() {
    if (closing.pending) return;
    var chat = chats.get(closing.chatId);
    if (!chat || !isMine(chat) || chat.gone) {
      $("close-dialog").close();
      return;
    }
    var frame = closeFrame();
    var errors = checkClose(frame);
    if (Object.keys(errors).length) {
      showCloseErrors(errors, "");
      return;
    }
    if (!send(frame, { conversation: chat.id })) {
      showCloseErrors({}, t("offline_action"));
      return;
    }
    closing.pending = { conversation: chat.id };
    chat.closing = true;
    clearCloseErrors();
    stopTyping();
    renderCloseActions();
  }

  function onClosedByMe(id) {
    if (!closing.pending || closing.pending.conversation !== id) return;
    closing.pending = null;
    renderCloseActions();
    if (closeDialogOpen()) $("close-dialog").close();
  }

  function onCloseError(frame, request) {
    var id = (request && request.conversation) || (closing.pending && closing.pending.conversation);
    var chat = chats.get(id);
    if (chat) chat.closing = false;
    closing.pending = null;
    renderCloseActions();
    if (!closeDialogOpen() || closing.chatId !== id) {
      toast(errorText(frame), "error");
      return;
    }
    var fields = Object.assign({}, frame.fields || {});
    if (frame.code === "outcome_required" && !Object.keys(fields).length) fields.outcome = frame.message;
    var placed = Object.keys(fields).some(function (key) {
      return closeFieldId(key) !== null;
    });
    showCloseErrors(fields, placed ? t("close_failed") : errorText(frame));
  }

  function onCloseConnectionLost() {
    if (!closing.pending) return;
    var chat = chats.get(closing.pending.conversation);
    if (chat) chat.closing = false;
    closing.pending = null;
    renderCloseActions();
    if (closeDialogOpen()) showCloseErrors({}, t("close_connection_lost"));
    else toast(t("close_connection_lost"), "error");
  }

  function wireWorkspace() {
    $("kb-form").addEventListener("submit", function (event) {
      event.preventDefault();
      searchKnowledge($("kb-query").value);
    });
    $("kb-query").addEventListener("input", function () {
      window.clearTimeout(ws.kbTimer);
      var query = $("kb-query").value.trim();
      if (!query) {
        ws.kbRequest += 1;
        ws.kbResults = null;
        renderKnowledge();
        return;
      }
      if (query.length < SEARCH_MIN_LENGTH) return;
      ws.kbTimer = window.setTimeout(function () {
        searchKnowledge(query);
      }, SEARCH_DEBOUNCE_MS);
    });
    $("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      saveNote();
    });
    $("note-input").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        saveNote();
      }
    });
    $("tag-form").addEventListener("submit", function (event) {
      event.preventDefault();
      addTagFromInput();
    });
    $("notice-nag-open").addEventListener("click", openNoticesDialog);
    $("notices-dialog").addEventListener("close", function () {
      if (!$("notice-nag").hidden) $("notice-nag-open").focus();
      else focusChat();
    });

    var input = $("composer-input");
    input.addEventListener("click", updateCanned);
    input.addEventListener("blur", function () {
      ws.caret = { start: input.selectionStart, end: input.selectionEnd };
      hideCanned();
    });

    $("close-outcome").addEventListener("change", function () {
      renderCloseOutcome();
      var note = $("close-outcome-error");
      if (!note.hidden && $("close-outcome").value) {
        note.hidden = true;
        $("close-outcome").removeAttribute("aria-invalid");
      }
    });
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
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.code === "KeyK" || event.code === "KeyN")) {
      if ($("workspace").hidden) return;
      event.preventDefault();
      var field = $(event.code === "KeyK" ? "kb-query" : "note-input");
      field.focus();
      if (field.select) field.select();
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
      if (onCannedKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
        event.preventDefault();
        sendReply();
      }
    });
    input.addEventListener("input", function () {
      autoGrow();
      if (input.value.trim()) noteTyping();
      else stopTyping();
      updateCanned();
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
    wireWorkspace();
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
    renderNag();
    connect();
    window.setInterval(tick, 500);
    window.setInterval(ping, PING_MS);
    window.setInterval(refreshNotices, NOTICES_REFRESH_MS);
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
    // Ping now instead of at the next 10 s tick.
    ping: ping,
    // Close the connection as a network failure would, and stay away at least holdMs before reconnecting.
    simulateDrop: function (holdMs) {
      holdReconnectUntil = Date.now() + (holdMs || 0);
      if (socket) socket.close();
    },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
