/* What each frame from the server does: the state and welcome frames that replace the lists (and finish a
 * take, close or transfer), histories, live messages, acks, closes, pongs, and errors, each error matched to
 * the request it answers. The frames are in conversations/protocol.py. The page is reached only through the
 * parts it is given, so the whole path from a frame to the state, the outbox and the frames sent back can be
 * tested without one.
 */
import { errorText } from "./format.js";

const REFRESH_DEBOUNCE_MS = 60;

export class FrameHandler {
  /**
   * parts: state, sync, outbox, connection, alerts, notices, pane, transfer, closeDialog, t, toast(text, kind),
   * and the page's renderAll(), renderChat(chat), renderPane(), renderPresence(), openNextChat(), focusComposer();
   * later(fn, ms) for tests.
   */
  constructor(parts) {
    this.later = (fn, ms) => setTimeout(fn, ms);
    Object.assign(this, parts);
    this.flushNeeded = false; // a new connection sends the outbox again once it is welcomed
    this.refreshTimer = null;
  }

  /** A new connection is open: it follows nothing yet. */
  opened() {
    this.sync.reset();
    this.flushNeeded = true;
  }

  /** Ask for the whole state again, once for a burst of frames that say the lists changed. */
  refresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = this.later(() => {
      this.refreshTimer = null;
      this.connection.send({ type: "hello" });
    }, REFRESH_DEBOUNCE_MS);
  }

  renderChanged(chat) {
    if (chat) this.renderChat(chat);
  }

  handle(frame) {
    const { state, connection } = this;
    switch (frame.type) {
      case "welcome":
      case "state":
        this.onState(frame, connection.nextReply());
        break;
      case "history":
        connection.nextReply();
        this.renderChanged(state.applyHistory(frame));
        break;
      case "ack":
        connection.nextReply();
        this.onAck(frame);
        break;
      case "error":
        this.onError(frame);
        break;
      case "message":
      case "activity":
        this.onMessage(frame);
        break;
      case "colleagues":
        connection.nextReply();
        this.transfer.onColleagues(frame);
        break;
      case "assigned":
        this.transfer.assigned(frame);
        this.refresh();
        break;
      case "queue":
      case "requeued":
        this.refresh();
        break;
      case "withdrawn":
        this.transfer.withdrawn(frame);
        this.refresh();
        break;
      case "closed":
        this.onClosed(frame);
        this.refresh();
        break;
      case "typing":
        this.renderChanged(state.applyTyping(frame));
        break;
      case "visitor":
        this.renderChanged(state.applyVisitor(frame));
        break;
      case "delivered":
        if (state.applyDelivered(frame)?.id === state.currentId) this.pane.renderMessages();
        break;
      case "pong":
        this.onPong(frame);
        break;
      default:
        break;
    }
  }

  /** Replace both lists; alert the chats new to them; follow what they show. */
  applyState(frame) {
    this.state.applyState(frame).forEach((chat) => this.alerts.newChat(chat));
    this.sync.followListed();
    this.renderAll();
  }

  /** Take a state or welcome frame, and finish the request it answers (a take, a close, a transfer). */
  onState(frame, request) {
    const { state, t } = this;
    const answered = (type) => (request && request.type === type ? request.conversation : null);
    const takenId = answered("take");
    const closedId = answered("close");
    const transferredId = answered("transfer");
    this.applyState(frame);
    if (frame.type === "welcome") {
      this.connection.welcomed();
      this.notices.refresh();
      if (this.flushNeeded) {
        this.flushNeeded = false;
        this.outbox.flush();
      }
      this.transfer.reconnected();
    }
    if (transferredId !== null) this.transfer.transferred(transferredId, request);
    if (takenId !== null && state.mineIds.includes(takenId) && !request.errored) {
      this.toast(t("taken_toast"));
      if (state.currentId === takenId) this.focusComposer();
    }
    if (closedId !== null) {
      this.closeDialog.closed(closedId);
      const closedChat = state.chats.get(closedId);
      if (closedChat) closedChat.closing = false;
      this.toast(t("closed_toast"));
      if (state.currentId === closedId) this.openNextChat();
    }
  }

  onMessage(message) {
    const { chat, added, retired, unknown } = this.sync.onMessage(message);
    if (retired) {
      if (added && chat.id === this.state.currentId) this.renderPane();
      return;
    }
    if (unknown) this.refresh();
    if (!added) return;
    if (message.sender === "visitor" && !this.state.inView(chat)) this.alerts.newMessage(chat, message);
    this.renderChat(chat);
  }

  onAck(frame) {
    const item = this.outbox.find(frame.client_msg_id);
    if (!item) return;
    const chat = this.state.applyAck(frame, item);
    this.outbox.remove(item.client_msg_id);
    this.renderChanged(chat);
  }

  /** Show a message the server refused as not sent, with Retry and Discard. */
  failMessage(clientMsgId, reason) {
    const item = this.outbox.fail(clientMsgId);
    if (!item) return;
    this.state.ensureChat(item.conversation).failed.push({ client_msg_id: item.client_msg_id, body: item.body, reason });
  }

  onClosed(frame) {
    const chat = this.state.applyClosed(frame);
    if (!chat) return;
    this.outbox.forChat(chat.id).forEach((item) => this.failMessage(item.client_msg_id, this.t("error_closed")));
    this.renderAll();
  }

  onPong(frame) {
    const { chats, refresh } = this.sync.onPong(frame);
    chats.forEach((chat) => this.renderChat(chat));
    if (refresh) this.refresh();
  }

  // Errors carry no reference to the frame they answer; the server answers in order, so it is the oldest one
  // waiting. A refused take is the one case followed by a state frame, so it stays in line for that frame.
  onError(frame) {
    const { state, connection } = this;
    const request = connection.peekReply();
    if (request && request.type === "take" && frame.code === "not_available") request.errored = true;
    else connection.nextReply();
    const asked = (type) => !!request && request.type === type;
    if (asked("transfer") || asked("colleagues") || frame.ref === "transfer") {
      this.transfer.refused(frame, request);
      return;
    }
    if (asked("close") || frame.ref === "close") {
      this.closeDialog.refused(frame, request);
      return;
    }
    if (frame.code === "overloaded" && frame.client_msg_id) {
      // The server is saturated: the message stays in the outbox ("Sending…") and goes again shortly.
      this.outbox.retryAfter(frame.client_msg_id, frame.retry_after);
      return;
    }
    const text = errorText(this.t, frame);
    if (asked("message")) {
      this.failMessage(request.client_msg_id, text);
      this.renderChat(state.ensureChat(request.conversation));
      return;
    }
    if (asked("open") && frame.code === "not_found") {
      const chat = state.ensureChat(request.conversation);
      state.retire(chat, "gone");
      this.renderChat(chat);
      return;
    }
    if (asked("presence")) this.renderPresence();
    this.toast(text, "error");
  }
}
