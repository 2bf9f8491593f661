/* The outbox: messages the agent wrote that the server has not acknowledged yet.
 *
 * Kept in order and saved (localStorage) so that a reload or a dropped connection loses nothing; every item
 * is sent again with the same client_msg_id after a reconnect, which the server stores only once. An
 * "overloaded" answer keeps the message here ("Sending…") and sends it again after the server's retry_after,
 * spread by up to half as much again so that many consoles told to wait do not come back at once. An ack,
 * or the message arriving in a history, takes it out. Pure: frames go out through the send function given.
 */

const DEFAULT_RETRY_SECONDS = 2;

export class Outbox {
  /**
   * items: what a reload found saved; save(items): keep them; send(frame, meta): false without a connection;
   * connected(): whether there is one; later(fn, ms): a timer; random(): 0 ≤ x < 1, for the spread.
   */
  constructor({
    items = [],
    save = () => {},
    send = () => false,
    connected = () => true,
    later = (fn, ms) => setTimeout(fn, ms),
    random = Math.random,
  } = {}) {
    this.items = items.slice();
    this.save = save;
    this.send = send;
    this.connected = connected;
    this.later = later;
    this.random = random;
  }

  get size() {
    return this.items.length;
  }

  find(clientMsgId) {
    return this.items.find((item) => item.client_msg_id === clientMsgId) || null;
  }

  forChat(chatId) {
    return this.items.filter((item) => item.conversation === chatId);
  }

  /** Keep a new message (at the end: the outbox keeps the order they were written in). */
  add(item) {
    this.items.push(item);
    this.save(this.items);
    return item;
  }

  /** Send a message now; false without a connection (it waits for the next flush). */
  sendItem(item) {
    return this.send(
      { type: "message", conversation: item.conversation, body: item.body, client_msg_id: item.client_msg_id },
      { client_msg_id: item.client_msg_id, conversation: item.conversation }
    );
  }

  /** Send everything waiting, oldest first (after a reconnect). */
  flush() {
    this.items.forEach((item) => this.sendItem(item));
  }

  /** Take a message out (acknowledged, or seen stored); return whether it was here. */
  remove(clientMsgId) {
    const before = this.items.length;
    this.items = this.items.filter((item) => item.client_msg_id !== clientMsgId);
    if (this.items.length === before) return false;
    this.save(this.items);
    return true;
  }

  /** Take a refused message out for good and return it (the caller shows it as not sent), or null. */
  fail(clientMsgId) {
    const item = this.find(clientMsgId);
    if (item) this.remove(clientMsgId);
    return item;
  }

  /** Send a message again after the server said it was overloaded; return the delay in ms. */
  retryAfter(clientMsgId, seconds) {
    const delay = (seconds || DEFAULT_RETRY_SECONDS) * 1000 * (1 + this.random() * 0.5);
    this.later(() => {
      const item = this.find(clientMsgId);
      if (item && this.connected()) this.sendItem(item);
    }, delay);
    return delay;
  }
}
