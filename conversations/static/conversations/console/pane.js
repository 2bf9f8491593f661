/* The open chat: its header (visitor, client, language, status, the first-response timer and the actions
 * an agent may take on it now), the notice above the messages (closed, no longer yours, visitor left), the
 * note of a transfer, the messages with what is still sending or was refused, and "typing…".
 * Messages are kept as one element per number (or outbox entry) and moved only when needed.
 */
import { $, make } from "./dom.js";
import { formatClockTime, formatDuration, formatFullMoment, parseTime } from "./format.js";

// Within this many pixels of the end, a new message scrolls the list along.
const NEAR_BOTTOM_PX = 80;

export class ChatPane {
  /**
   * state: the ChatState; outbox: the Outbox; connected(): whether the socket is up;
   * retry(chat, clientMsgId): send a refused message again.
   */
  constructor({ state, outbox, t, connected, retry }) {
    Object.assign(this, { state, outbox, t, connected, retry });
    this.messageNodes = new Map(); // key → {node, state}, for the chat in view
    this.renderedChatId = null;
  }

  render() {
    const chat = this.state.current();
    $("pane-empty").hidden = !!chat;
    $("chat").hidden = !chat;
    if (chat) this.renderHeader(chat);
    this.renderMessages();
    if (chat) this.renderTyping(chat);
  }

  statusText(chat) {
    const { t, state } = this;
    const started = parseTime(chat.data.started_at);
    const params = { time: started !== null ? formatClockTime(started) : "–" };
    if (chat.gone === "closed" || chat.data.status === "closed") return t("status_closed", params);
    if (state.isQueued(chat)) return t("status_waiting", params);
    if (state.isMine(chat)) return t("status_mine", params);
    return t("status_other", params);
  }

  renderHeader(chat) {
    const { t, state } = this;
    $("chat-title").textContent = `${t("visitor")} ${chat.data.visitor || ""}`;
    $("chat-tenant").textContent = chat.data.tenant_name || "";
    $("chat-language").textContent = (chat.data.tenant_language || "").toUpperCase();
    $("chat-language").hidden = !chat.data.tenant_language;
    $("chat-status").textContent = this.statusText(chat);
    const mine = state.isMine(chat) && !chat.gone;
    const queued = state.isQueued(chat) && !chat.gone;
    $("take-button").hidden = !queued;
    $("close-button").hidden = !mine;
    $("transfer-button").hidden = !mine;
    $("composer").hidden = !mine;
    $("waiting-note").hidden = !queued;
    this.renderNotice(chat);
    this.renderTransferNote(chat, mine);
    this.renderClock(chat);
  }

  renderNotice(chat) {
    const { t } = this;
    const notice = $("chat-notice");
    chat.visitorGoneShown = this.state.visitorGone(chat);
    if (chat.gone) {
      const closedText = chat.data.outcome === "visitor_left" ? t("closed_visitor_left") : t("closed_notice");
      notice.textContent = chat.gone === "closed" ? closedText : t("gone_notice");
      notice.hidden = false;
    } else if (chat.visitorGoneShown) {
      notice.textContent = t("visitor_left");
      notice.hidden = false;
    } else {
      notice.hidden = true;
    }
  }

  renderTransferNote(chat, mine) {
    const handed = mine ? this.state.transferNotes[chat.id] : null;
    $("transfer-note").hidden = !handed;
    if (!handed) return;
    $("transfer-note-by").textContent = this.t("transfer_note_by", { name: handed.by });
    $("transfer-note-text").textContent = handed.note;
    $("transfer-note-text").hidden = !handed.note;
  }

  /** The first-response timer in the header: how long the visitor has waited, or how long the reply took. */
  renderClock(chat) {
    const { t } = this;
    const frt = this.state.firstResponse(chat);
    $("chat-frt").className = `frt level-${frt.level} state-${frt.state}`;
    const clock = $("chat-frt-clock");
    const note = $("chat-frt-note");
    if (frt.state === "none" || frt.state === "message") {
      clock.textContent = "–";
      note.textContent = t(frt.state === "none" ? "frt_none" : "frt_left_message");
      return;
    }
    clock.textContent = formatDuration(frt.seconds);
    if (frt.state === "done") note.textContent = t("frt_done", { time: formatDuration(frt.target) });
    else if (frt.level === "late") note.textContent = t("frt_late", { time: formatDuration(frt.seconds - frt.target) });
    else note.textContent = t("frt_due", { time: formatDuration(frt.target - frt.seconds) });
  }

  renderTyping(chat) {
    const typing = $("typing");
    const active = !!chat && this.state.visitorTyping(chat);
    typing.textContent = active ? this.t("visitor_typing") : "";
    typing.classList.toggle("is-active", active);
  }

  /** Return what the message list shows: stored messages by number, then the outbox's, then the refused. */
  messageItems(chat) {
    const items = this.state.sortedMessages(chat).map((message) => ({ key: `s${message.seq}`, message, state: "sent" }));
    for (const item of this.outbox.forChat(chat.id)) items.push({ key: `p${item.client_msg_id}`, message: item, state: "pending" });
    for (const item of chat.failed) items.push({ key: `f${item.client_msg_id}`, message: item, state: "failed" });
    return items;
  }

  buildMessageNode(chat, item) {
    const { t } = this;
    const { message } = item;
    const sender = item.state === "sent" ? message.sender : "agent";
    const node = make("li", `msg msg-${sender}`);
    const bubble = make("div", "msg-bubble");
    bubble.append(make("p", "msg-body", message.body));
    const meta = make("div", "msg-meta");
    if (sender === "agent") meta.append(make("span", "msg-author", message.agent_name || this.state.agent.name || ""));
    const at = parseTime(message.created_at);
    if (at !== null) {
      const time = make("time", "msg-time", formatClockTime(at));
      time.dateTime = message.created_at;
      time.title = formatFullMoment(at);
      meta.append(time);
    }
    const state = make("span", "msg-state");
    meta.append(state);
    if (item.state === "failed") {
      state.textContent = t("not_sent", { reason: message.reason });
      const retry = make("button", "link-button", t("retry"));
      retry.type = "button";
      retry.addEventListener("click", () => this.retry(chat, message.client_msg_id));
      const discard = make("button", "link-button", t("discard"));
      discard.type = "button";
      discard.addEventListener("click", () => {
        chat.failed = chat.failed.filter((entry) => entry.client_msg_id !== message.client_msg_id);
        this.renderMessages();
      });
      meta.append(retry, discard);
    }
    node.append(bubble, meta);
    node.dataset.state = item.state;
    node.classList.toggle("is-pending", item.state === "pending");
    node.classList.toggle("is-failed", item.state === "failed");
    return { node, state };
  }

  forgetNodes(list, chatId) {
    list.replaceChildren();
    this.messageNodes.clear();
    this.renderedChatId = chatId;
  }

  renderMessages() {
    const chat = this.state.current();
    const list = $("messages");
    if (!chat) {
      this.forgetNodes(list, null);
      return;
    }
    if (this.renderedChatId !== chat.id) this.forgetNodes(list, chat.id);
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
    const items = this.messageItems(chat);
    // "Delivered" goes on the last of the agent's messages the visitor has seen.
    let lastDelivered = 0;
    for (const item of items) {
      if (item.state === "sent" && item.message.sender === "agent" && item.message.seq <= chat.deliveredSeq) {
        lastDelivered = item.message.seq;
      }
    }
    const wanted = new Set();
    let grewByMine = false;
    let previous = null;
    for (const item of items) {
      wanted.add(item.key);
      let entry = this.messageNodes.get(item.key);
      if (!entry) {
        entry = this.buildMessageNode(chat, item);
        this.messageNodes.set(item.key, entry);
        if (item.state !== "sent" || item.message.sender === "agent") grewByMine = true;
      }
      if (item.state === "pending") {
        entry.state.textContent = this.connected() ? this.t("sending") : this.t("queued_offline");
      } else if (item.state === "sent") {
        entry.state.textContent = item.message.seq === lastDelivered ? `✓ ${this.t("delivered")}` : "";
      }
      const expectedNext = previous ? previous.nextSibling : list.firstChild;
      if (entry.node !== expectedNext) list.insertBefore(entry.node, expectedNext);
      previous = entry.node;
    }
    for (const [key, entry] of this.messageNodes) {
      if (!wanted.has(key)) {
        entry.node.remove();
        this.messageNodes.delete(key);
      }
    }
    if (items.length) list.removeAttribute("data-empty");
    else list.setAttribute("data-empty", this.t("no_messages"));
    if (nearBottom || grewByMine) list.scrollTop = list.scrollHeight;
  }
}
