/* Sync: which chats this connection follows, and when to fetch what the live feed lost.
 *
 * The console follows a chat by sending "open" with the number up to which it has every message; the
 * server answers with a history of the rest. Nothing is missed silently (conversations/protocol.py): a
 * message numbered past a missing one, or a pong naming a higher last number than the console has, fetches
 * the rest the same way ("resync"); a pong whose lists differ from the console's asks for the whole state.
 * Pure: frames go out through the send function it is given.
 */

// Waiting chats are opened too, so their messages and typing show before anyone takes them; up to this many.
export const QUEUE_PREVIEW_LIMIT = 25;

export class ChatSync {
  /** state: a ChatState; send(frame, meta): false when there is no connection; connected(): whether there is one. */
  constructor({ state, send, connected }) {
    this.state = state;
    this.send = send;
    this.connected = connected;
    this.subscribed = new Set(); // conversations opened on this connection
  }

  /** Forget what the last connection followed: a new one starts from nothing. */
  reset() {
    this.subscribed.clear();
  }

  /** Follow a chat on this connection, once: "open" with the number up to which every message is here. */
  follow(id) {
    if (!this.connected() || this.subscribed.has(id)) return;
    const chat = this.state.ensureChat(id);
    this.subscribed.add(id);
    this.send({ type: "open", conversation: id, last_seq: chat.loaded ? chat.loadedThrough : 0 }, { conversation: id });
  }

  /** Follow what the lists show: every chat of the agent's, the first waiting ones and the chat in view. */
  followListed() {
    const { state } = this;
    state.mineIds.forEach((id) => this.follow(id));
    state.queueIds.slice(0, QUEUE_PREVIEW_LIMIT).forEach((id) => this.follow(id));
    if (state.currentId !== null && state.listed.has(state.currentId)) this.follow(state.currentId);
  }

  /** Fetch a chat's messages from the first one missing, unless that is already under way. */
  resync(chat) {
    if (chat.resyncing || !this.connected()) return;
    chat.resyncing = true;
    this.subscribed.delete(chat.id);
    this.follow(chat.id);
  }

  /** Take a live message: keep it, and resync when it skipped a number. Return ChatState.applyMessage's answer. */
  onMessage(message) {
    const result = this.state.applyMessage(message);
    const { chat } = result;
    if (result.added && !result.retired && chat.loaded && message.seq > chat.loadedThrough + 1) this.resync(chat);
    return result;
  }

  /**
   * Take a pong: the server's last number of every chat it follows for this console, and its lists.
   * Return {chats: the chats whose numbers it named, refresh: whether to ask for the whole state again}.
   */
  onPong(frame) {
    const chats = [];
    for (const [key, last] of Object.entries(frame.conversations || {})) {
      const chat = this.state.chats.get(Number(key));
      if (!chat || chat.gone) continue;
      if (last > (chat.data.last_seq || 0)) chat.data.last_seq = last;
      if (chat.loaded && last > chat.loadedThrough) this.resync(chat);
      chats.push(chat);
    }
    return { chats, refresh: this.state.listsDiffer(frame) };
  }
}
