/* The reply box: a draft per chat, Enter to send (through the outbox), "typing" frames to the visitor while
 * the agent writes, text put in where the caret was (a knowledge-base article, a canned response), and a
 * refused message sent again. The canned-responses list inside it is canned.js's; it gets the keys first.
 */
import { $ } from "./dom.js";
import { newClientMsgId } from "./format.js";

const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const MAX_HEIGHT_PX = 180;
export const COMPOSER_LIMIT = 4000;

export class Composer {
  /**
   * state: the ChatState; outbox: the Outbox; send(frame): the connection's; toast(text, kind);
   * rendered(): the pane's messages changed; popupKey(event): the canned list's keys, true when it used one.
   */
  constructor({ state, outbox, send, t, toast, rendered, popupKey = () => false }) {
    Object.assign(this, { state, outbox, send, t, toast, rendered, popupKey });
    this.drafts = new Map(); // conversation id → unsent text
    this.typingSent = { conversation: null, at: 0, idleTimer: null };
    this.caret = null; // where the caret was when the box lost focus: {start, end}
  }

  input() {
    return $("composer-input");
  }

  wire() {
    const input = this.input();
    input.addEventListener("keydown", (event) => {
      if (this.popupKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
        event.preventDefault();
        this.sendReply();
      }
    });
    input.addEventListener("input", () => {
      this.autoGrow();
      if (input.value.trim()) this.noteTyping();
      else this.stopTyping();
    });
    input.addEventListener("blur", () => {
      this.caret = { start: input.selectionStart, end: input.selectionEnd };
      this.stopTyping();
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendReply();
      input.focus();
    });
  }

  /** Keep the draft of the chat left and bring back the one of the chat opened. */
  switchChat(previousId, id) {
    if (previousId === id) return;
    if (previousId !== null) {
      this.drafts.set(previousId, this.input().value);
      this.stopTyping();
    }
    this.input().value = id !== null ? this.drafts.get(id) || "" : "";
    this.caret = null;
    this.autoGrow();
  }

  forgetDraft(id) {
    this.drafts.delete(id);
  }

  /** Whether text may go into the reply box: the chat in view is the agent's and still open. */
  canInsert() {
    const chat = this.state.current();
    return !!chat && this.state.isMine(chat) && !chat.gone && !$("composer").hidden;
  }

  focus() {
    if (!$("composer").hidden) this.input().focus();
  }

  autoGrow() {
    const input = this.input();
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT_PX)}px`;
  }

  sendReply() {
    const input = this.input();
    const chat = this.state.current();
    if (!chat || chat.gone || !this.state.isMine(chat)) return;
    const body = input.value;
    if (!body.trim()) return;
    const item = this.outbox.add({
      conversation: chat.id,
      client_msg_id: newClientMsgId(),
      body,
      created_at: new Date().toISOString(),
    });
    input.value = "";
    this.drafts.delete(chat.id);
    this.autoGrow();
    this.stopTyping();
    this.outbox.sendItem(item);
    this.rendered();
  }

  /** Send a refused message again, with its own client id (the server stores it once). */
  retry(chat, clientMsgId) {
    const item = chat.failed.find((entry) => entry.client_msg_id === clientMsgId);
    if (!item) return;
    chat.failed = chat.failed.filter((entry) => entry !== item);
    const again = this.outbox.add({
      conversation: chat.id,
      client_msg_id: item.client_msg_id,
      body: item.body,
      created_at: new Date().toISOString(),
    });
    this.outbox.sendItem(again);
    this.rendered();
  }

  noteTyping() {
    const chat = this.state.current();
    if (!chat || !this.state.isMine(chat) || chat.gone) return;
    const sent = this.typingSent;
    const now = Date.now();
    if (sent.conversation !== chat.id || now - sent.at > TYPING_RESEND_MS) {
      if (this.send({ type: "typing", conversation: chat.id, active: true })) {
        sent.conversation = chat.id;
        sent.at = now;
      }
    }
    window.clearTimeout(sent.idleTimer);
    sent.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    const sent = this.typingSent;
    window.clearTimeout(sent.idleTimer);
    if (sent.conversation === null) return;
    this.send({ type: "typing", conversation: sent.conversation, active: false });
    sent.conversation = null;
    sent.at = 0;
  }

  /** Put text into the reply box where the agent left the caret (or over range, or at the end); focus it. */
  insert(text, range) {
    if (!this.canInsert()) {
      this.toast(this.t("search_insert_unavailable"), "error");
      return false;
    }
    const input = this.input();
    const { value } = input;
    const where =
      range ||
      (document.activeElement === input
        ? { start: input.selectionStart, end: input.selectionEnd }
        : this.caret || { start: value.length, end: value.length });
    const before = value.slice(0, where.start);
    const after = value.slice(where.end);
    const glue = before && !/\s$/.test(before) ? " " : "";
    const inserted = (before + glue + text).slice(0, COMPOSER_LIMIT);
    input.value = (inserted + after).slice(0, COMPOSER_LIMIT);
    input.focus();
    input.setSelectionRange(inserted.length, inserted.length);
    this.caret = null;
    this.drafts.set(this.state.currentId, input.value);
    this.autoGrow();
    this.noteTyping();
    return true;
  }
}
