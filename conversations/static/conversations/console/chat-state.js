/* Chat state: what the console knows of every chat, kept apart from the page so it can be tested alone.
 *
 * Owns the chats (by conversation id) with their messages by sequence number, the agent's chats and the
 * queue as the server last listed them, the chats that left those lists ("retired": their frames may still
 * arrive and must not alert), the chat in view, what the agent has read, the notes of chats transferred to
 * them, the visitor's presence and typing, and the server's clock. The server is the source of truth: a
 * state frame replaces both lists; a message is kept once per number however often it arrives.
 */
import { parseTime } from "./format.js";

// Chats seen only through an activity frame are dropped if no state lists them within this time.
export const PLACEHOLDER_TTL_MS = 5000;
// A visitor's page change closes one socket and opens the next: "visitor left" waits this long.
export const VISITOR_LEFT_DELAY_MS = 3000;
// A visitor's "typing" without a follow-up is forgotten after this long (they may have left).
export const TYPING_SHOW_MS = 8000;
// A reply waits this long before amber: "near" the tenant's first-response target.
const NEAR_TARGET_SHARE = 0.7;
const CLOCK_SAMPLES = 7;

/** The server's clock as seen from here: server time ≈ client time − offset, learnt from live messages. */
export class ServerClock {
  constructor(now = () => Date.now()) {
    this.clientNow = now;
    this.samples = [];
    this.offsetMs = 0;
  }

  now() {
    return this.clientNow() - this.offsetMs;
  }

  note(createdAt) {
    const ms = parseTime(createdAt);
    if (ms === null) return;
    this.samples.push(this.clientNow() - ms);
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    // Delivery only ever adds delay, so the smallest recent difference is the closest to the true offset.
    this.offsetMs = Math.min(...this.samples);
  }
}

function newChat(id, now) {
  return {
    id,
    data: { conversation: id },
    messages: new Map(), // seq → message
    loaded: false, // a history has been received
    loadedThrough: 0, // every message up to this number is here
    firstAgentReplyAt: null,
    deliveredSeq: 0,
    visitorTypingUntil: 0,
    failed: [], // messages the server refused: {client_msg_id, body, reason}
    gone: null, // null, "closed" or "gone" (no longer this agent's or in the queue)
    closing: false,
    resyncing: false,
    visitorAwaySince: null,
    visitorGoneShown: false,
    placeholderSince: now,
  };
}

function sameIds(ids, others) {
  return ids.length === others.length && ids.every((id) => others.includes(id));
}

export class ChatState {
  /**
   * now: the client's clock; pageVisible: whether the agent can see the page; persist(name, value): keep
   * what survives a reload; onStored(clientMsgId): a message the agent wrote is stored (leave the outbox).
   */
  constructor({
    now = () => Date.now(),
    pageVisible = () => true,
    persist = () => {},
    onStored = () => {},
    readSeqs = {},
    transferNotes = {},
  } = {}) {
    this.now = now;
    this.pageVisible = pageVisible;
    this.persist = persist;
    this.onStored = onStored;
    this.clock = new ServerClock(now);
    this.agent = {};
    this.chats = new Map();
    this.queueIds = [];
    this.mineIds = [];
    this.listed = new Set();
    this.retired = new Set();
    this.currentId = null;
    this.stateApplied = false;
    this.readSeqs = readSeqs; // conversation id → the last number the agent has seen
    this.transferNotes = transferNotes; // conversation id → {by, note, at}, shown until the agent replies
  }

  ensureChat(id) {
    let chat = this.chats.get(id);
    if (!chat) {
      chat = newChat(id, this.now());
      this.chats.set(id, chat);
    }
    return chat;
  }

  isMine(chat) {
    return this.mineIds.includes(chat.id);
  }

  isQueued(chat) {
    return this.queueIds.includes(chat.id);
  }

  /** Return the chats in the order the lists show them: the agent's, then the queue. */
  visibleOrder() {
    return this.mineIds.concat(this.queueIds);
  }

  current() {
    return this.currentId !== null ? this.chats.get(this.currentId) || null : null;
  }

  inView(chat) {
    return chat.id === this.currentId && this.pageVisible();
  }

  retire(chat, how) {
    chat.gone = how;
    this.retired.add(chat.id);
  }

  // ------------------------------------------------ sequence numbers

  /** Return the highest number known of a chat, whether or not its message is here. */
  lastKnownSeq(chat) {
    let last = chat.data.last_seq || 0;
    for (const seq of chat.messages.keys()) if (seq > last) last = seq;
    return last;
  }

  /** Keep a message once per number; return whether it was new. */
  addMessage(chat, message) {
    if (chat.messages.has(message.seq)) return false;
    chat.messages.set(message.seq, message);
    if (message.seq > (chat.data.last_seq || 0)) chat.data.last_seq = message.seq;
    while (chat.messages.has(chat.loadedThrough + 1)) chat.loadedThrough += 1;
    const at = parseTime(message.created_at);
    if (message.sender === "agent" && at !== null) {
      if (chat.firstAgentReplyAt === null || at < chat.firstAgentReplyAt) chat.firstAgentReplyAt = at;
    }
    if (message.sender === "visitor" && !chat.data.first_visitor_message_at) {
      chat.data.first_visitor_message_at = message.created_at;
    }
    if (message.client_msg_id) this.onStored(message.client_msg_id);
    return true;
  }

  sortedMessages(chat) {
    return Array.from(chat.messages.values()).sort((a, b) => a.seq - b.seq);
  }

  // ------------------------------------------------ unread

  unreadCount(chat) {
    if (chat.gone) return 0;
    const read = this.readSeqs[chat.id] || 0;
    const last = this.lastKnownSeq(chat);
    let count = 0;
    for (let seq = read + 1; seq <= last; seq += 1) {
      const message = chat.messages.get(seq);
      // A message not loaded yet (a queue chat never opened) counts: in a waiting chat they are the visitor's.
      if (!message ? !chat.loaded : message.sender === "visitor") count += 1;
    }
    return count;
  }

  /** Return the unread messages of the chats listed (and of those about to be), for the tab's title. */
  totalUnread() {
    let total = 0;
    for (const chat of this.chats.values()) {
      if (this.listed.has(chat.id) || chat.placeholderSince !== null) total += this.unreadCount(chat);
    }
    return total;
  }

  /** Mark everything in a chat read, if the agent has it in view. */
  markRead(chat) {
    if (!this.inView(chat)) return;
    const last = this.lastKnownSeq(chat);
    if ((this.readSeqs[chat.id] || 0) < last) {
      this.readSeqs[chat.id] = last;
      this.persist("read", this.readSeqs);
    }
  }

  /** Forget read marks and transfer notes of chats that are no longer listed. */
  pruneMarks() {
    const kept = {};
    for (const [key, seq] of Object.entries(this.readSeqs)) {
      const id = Number(key);
      if (this.listed.has(id) || id === this.currentId) kept[key] = seq;
    }
    this.readSeqs = kept;
    this.persist("read", this.readSeqs);
    // A note is kept a moment before its chat is listed: the assigned frame comes before the state naming it.
    const notes = {};
    for (const [key, note] of Object.entries(this.transferNotes)) {
      if (this.mineIds.includes(Number(key)) || this.now() - note.at < PLACEHOLDER_TTL_MS) notes[key] = note;
    }
    this.transferNotes = notes;
    this.persist("transfers", this.transferNotes);
  }

  // ------------------------------------------------ frames

  /** Take a state or welcome frame: both lists replaced. Return the chats new to the lists (none the first time). */
  applyState(frame) {
    this.agent = frame.agent || this.agent;
    const previous = this.listed;
    const isFirst = !this.stateApplied;
    this.queueIds = (frame.queue || []).map((payload) => payload.conversation);
    this.mineIds = (frame.chats || []).map((payload) => payload.conversation);
    this.listed = new Set(this.queueIds.concat(this.mineIds));
    for (const payload of (frame.queue || []).concat(frame.chats || [])) this.applyListed(payload);
    for (const chat of this.chats.values()) {
      if (this.listed.has(chat.id) || chat.gone) continue;
      if (previous.has(chat.id)) {
        this.retire(chat, chat.closing || chat.data.status === "closed" ? "closed" : "gone");
      } else if (chat.placeholderSince !== null && this.now() - chat.placeholderSince > PLACEHOLDER_TTL_MS) {
        this.retire(chat, "gone");
      }
    }
    this.stateApplied = true;
    this.pruneMarks();
    if (isFirst) return [];
    return [...this.listed].filter((id) => !previous.has(id)).map((id) => this.chats.get(id));
  }

  applyListed(payload) {
    const chat = this.ensureChat(payload.conversation);
    // Keep what messages taught us when the snapshot is older than a frame already received.
    const firstVisitorAt = chat.data.first_visitor_message_at;
    const lastSeq = chat.data.last_seq || 0;
    Object.assign(chat.data, payload);
    if (!chat.data.first_visitor_message_at) chat.data.first_visitor_message_at = firstVisitorAt;
    chat.data.last_seq = Math.max(lastSeq, payload.last_seq || 0);
    chat.gone = null;
    chat.placeholderSince = null;
    this.retired.delete(chat.id);
  }

  /** Take a history frame (the answer to "open"); return its chat, or null for one that already left. */
  applyHistory(frame) {
    const payload = frame.conversation || {};
    if (this.retired.has(payload.conversation) && !this.chats.has(payload.conversation)) return null;
    const chat = this.ensureChat(payload.conversation);
    Object.assign(chat.data, payload);
    if (payload.visitor_present !== false) chat.visitorAwaySince = null;
    for (const message of frame.messages || []) this.addMessage(chat, message);
    chat.loaded = true;
    chat.resyncing = false;
    // Everything up to the conversation's last number has now been sent to us.
    chat.loadedThrough = Math.max(chat.loadedThrough, payload.last_seq || 0);
    while (chat.messages.has(chat.loadedThrough + 1)) chat.loadedThrough += 1;
    if (payload.status === "closed") this.retire(chat, "closed");
    this.markRead(chat);
    return chat;
  }

  /**
   * Take a message (or activity) frame. Return {chat, added, retired, unknown}: added is false for a number
   * already here; retired for a chat no longer listed (shown, never alerted); unknown for a chat no state named.
   */
  applyMessage(message) {
    const id = message.conversation;
    if (this.retired.has(id)) {
      const former = this.chats.get(id) || null;
      return { chat: former, added: !!former && this.addMessage(former, message), retired: true, unknown: false };
    }
    const unknown = !this.chats.has(id);
    const chat = this.ensureChat(id);
    if (!this.addMessage(chat, message)) return { chat, added: false, retired: false, unknown };
    // A live reply from another tab of this agent retires the note too.
    if (message.sender === "agent" && message.agent_name === this.agent.name) this.forgetTransferNote(id);
    if (message.sender === "visitor") {
      this.clock.note(message.created_at);
      chat.visitorTypingUntil = 0;
      this.markRead(chat);
    }
    return { chat, added: true, retired: false, unknown };
  }

  /** Take the acknowledgement of a message the agent wrote (item: its outbox entry); return its chat. */
  applyAck(frame, item) {
    const chat = this.chats.get(item.conversation);
    if (!chat) return null;
    this.addMessage(chat, {
      conversation: item.conversation,
      seq: frame.seq,
      sender: "agent",
      agent_name: this.agent.name || "",
      body: item.body,
      client_msg_id: item.client_msg_id,
      created_at: new Date(this.clock.now()).toISOString(),
    });
    this.forgetTransferNote(chat.id);
    this.markRead(chat);
    return chat;
  }

  /** Take a closed frame: the chat leaves both lists at once. Return it, or null for a chat unknown here. */
  applyClosed(frame) {
    const chat = this.chats.get(frame.conversation);
    if (!chat) return null;
    Object.assign(chat.data, frame);
    this.retire(chat, "closed");
    chat.visitorTypingUntil = 0;
    this.queueIds = this.queueIds.filter((id) => id !== chat.id);
    this.mineIds = this.mineIds.filter((id) => id !== chat.id);
    this.listed.delete(chat.id);
    return chat;
  }

  applyVisitor(frame) {
    const chat = this.chats.get(frame.conversation);
    if (!chat) return null;
    chat.data.visitor_present = frame.visitor_present;
    chat.visitorAwaySince = frame.visitor_present ? null : this.now();
    return chat;
  }

  applyTyping(frame) {
    if (frame.sender !== "visitor") return null;
    const chat = this.chats.get(frame.conversation);
    if (!chat || chat.gone) return null;
    chat.visitorTypingUntil = frame.active ? this.now() + TYPING_SHOW_MS : 0;
    return chat;
  }

  /** Take a delivered frame; return the chat when it moved the visitor's "seen up to" forward. */
  applyDelivered(frame) {
    const chat = this.chats.get(frame.conversation);
    if (!chat || !(frame.seq > chat.deliveredSeq)) return null;
    chat.deliveredSeq = frame.seq;
    return chat;
  }

  /** Whether a pong's lists of the agent's chats and the queue differ from the ones shown. */
  listsDiffer(frame) {
    return !sameIds(frame.chats || [], this.mineIds) || !sameIds(frame.queue || [], this.queueIds);
  }

  /** Drop the chats that ended and are not in view. */
  dropEnded() {
    for (const chat of this.chats.values()) {
      if (chat.gone && chat.id !== this.currentId) this.chats.delete(chat.id);
    }
  }

  // ------------------------------------------------ transfers

  noteTransfer(frame) {
    if (frame.agent !== this.agent.id) return;
    this.transferNotes[frame.conversation] = {
      by: frame.transferred_by || "",
      note: frame.transfer_note || "",
      at: this.now(),
    };
    this.persist("transfers", this.transferNotes);
  }

  forgetTransferNote(id) {
    if (!this.transferNotes[id]) return;
    delete this.transferNotes[id];
    this.persist("transfers", this.transferNotes);
  }

  // ------------------------------------------------ what the lists and the pane show

  /** Whether to show that the visitor has no page with the chat open (a moment after they left it). */
  visitorGone(chat) {
    if (chat.gone || chat.data.visitor_present !== false) return false;
    return chat.visitorAwaySince === null || this.now() - chat.visitorAwaySince >= VISITOR_LEFT_DELAY_MS;
  }

  visitorTyping(chat) {
    return !chat.gone && chat.visitorTypingUntil > this.now();
  }

  /** Return the first-response timer: {state: none|running|done|message, target, seconds, level: ok|near|late}. */
  firstResponse(chat) {
    const target = chat.data.first_response_target_seconds || 10;
    // A message left outside service hours waits for the next shift by design: no live target runs.
    if (chat.data.origin === "offline") return { state: "message", target, seconds: 0, level: "ok" };
    const first = parseTime(chat.data.first_visitor_message_at);
    if (first === null) return { state: "none", target, seconds: 0, level: "ok" };
    if (chat.firstAgentReplyAt !== null) {
      const took = (chat.firstAgentReplyAt - first) / 1000;
      return { state: "done", target, seconds: took, level: took <= target ? "ok" : "late" };
    }
    const waited = (this.clock.now() - first) / 1000;
    const level = waited > target ? "late" : waited >= target * NEAR_TARGET_SHARE ? "near" : "ok";
    return { state: "running", target, seconds: waited, level };
  }

  /** Return the last message of a chat, or null. */
  lastMessage(chat) {
    let last = null;
    for (const message of chat.messages.values()) if (!last || message.seq > last.seq) last = message;
    return last;
  }
}
