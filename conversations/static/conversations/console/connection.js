/* The connection: the console's one WebSocket to /ws/console/, kept open.
 *
 * Owns connecting and reconnecting with back-off (doubling from 0.5 s to 30 s, spread ±25 % so a whole team
 * does not come back at once), the hello that starts every connection, the ping every 10 s (naming the last
 * mark read, so the server can tell a console that reads from one that only pings) and the answer to
 * the server's probe (a background tab's timers may run once a minute; an arriving frame still runs at once,
 * so answering it keeps the console alive), and the line of frames waiting for an answer: the server answers
 * in order, and an error names no request, so the oldest one waiting is the one it answers. After two failed
 * attempts it asks whether the session has ended (a refused WebSocket looks like any dropped connection).
 * No page: what it shows goes through the hooks it is given.
 */

export const PING_MS = 10000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;
// The frames the server answers (with a state, history, ack, colleagues frame or an error).
const REPLY_FRAMES = new Set(["hello", "presence", "open", "take", "message", "close", "colleagues", "transfer"]);

/** Return how long to wait before reconnect attempt number `attempt` (0 for the first). */
export function backoffDelay(attempt, random = Math.random) {
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.round(delay * (0.75 + random() * 0.5));
}

export class Connection {
  /**
   * url: the WebSocket's address. hooks: onStatus("connecting" | "online" | "offline"), onOpen(), onFrame(frame),
   * onClose(), onWaiting() (a reconnect is scheduled), onSessionEnded(). checkSession(): a promise of whether the
   * agent is signed out. The rest is for tests: openSocket(url), now(), later(fn, ms), cancel(timer), random().
   */
  constructor({
    url,
    hooks = {},
    checkSession = async () => false,
    // The global is looked up at each connection, so a page may wrap it first (the end-to-end tests do).
    openSocket = (address) => new WebSocket(address),
    now = () => Date.now(),
    later = (fn, ms) => setTimeout(fn, ms),
    cancel = (timer) => clearTimeout(timer),
    random = Math.random,
  }) {
    Object.assign(this, { url, checkSession, openSocket, now, later, cancel, random });
    this.hooks = { onStatus() {}, onOpen() {}, onFrame() {}, onClose() {}, onWaiting() {}, onSessionEnded() {}, ...hooks };
    this.socket = null;
    this.connected = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.reconnectAt = 0;
    this.sessionEnded = false;
    this.holdUntil = 0; // only set by simulateDrop, to rehearse an outage
    this.replies = []; // what each frame sent on this connection that the server answers waits for, in order
    this.mark = 0; // the last mark (of a pong or probe) read on this connection, named in each ping
  }

  connect() {
    if (this.sessionEnded) return;
    this.cancel(this.reconnectTimer);
    this.reconnectTimer = null;
    this.reconnectAt = 0;
    if (this.socket) return;
    this.hooks.onStatus("connecting");
    let socket;
    try {
      socket = this.openSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket === socket) this.opened();
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.received(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.closed();
    });
  }

  opened() {
    this.connected = true;
    this.replies = [];
    this.mark = 0;
    this.hooks.onStatus("online");
    this.hooks.onOpen();
    this.send({ type: "hello" });
  }

  received(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (Number.isInteger(frame.mark)) this.mark = frame.mark;
    if (frame.type === "probe") {
      this.ping();
      return;
    }
    this.hooks.onFrame(frame);
  }

  closed() {
    this.socket = null;
    this.connected = false;
    this.replies = [];
    this.hooks.onStatus("offline");
    this.hooks.onClose();
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.sessionEnded || this.reconnectTimer) return;
    const delay = Math.max(backoffDelay(this.attempt, this.random), this.holdUntil - this.now());
    this.attempt += 1;
    this.reconnectAt = this.now() + delay;
    this.reconnectTimer = this.later(() => this.connect(), delay);
    this.hooks.onWaiting();
    if (this.attempt >= 2) this.askSession();
  }

  askSession() {
    this.checkSession().then(
      (ended) => {
        if (ended) this.endSession();
      },
      () => {} // the server is unreachable: keep trying to reconnect
    );
  }

  endSession() {
    this.sessionEnded = true;
    this.cancel(this.reconnectTimer);
    this.reconnectTimer = null;
    this.hooks.onStatus("offline");
    this.hooks.onSessionEnded();
  }

  /** Return the whole seconds until the next attempt, or null when none is waiting. */
  secondsToReconnect() {
    if (this.sessionEnded || this.connected || !this.reconnectAt) return null;
    return Math.max(0, Math.ceil((this.reconnectAt - this.now()) / 1000));
  }

  /** Only a connection that got as far as a welcome counts as working; back-off keeps growing otherwise. */
  welcomed() {
    this.attempt = 0;
  }

  /** Try at once (the agent pressed Retry, or the browser is back online). */
  retryNow() {
    this.attempt = 0;
    this.connect();
  }

  /** Send a frame; return false when there is no connection. A frame the server answers joins the line. */
  send(frame, meta) {
    if (!this.connected || !this.socket) return false;
    this.socket.send(JSON.stringify(frame));
    if (REPLY_FRAMES.has(frame.type)) this.replies.push({ type: frame.type, ...meta });
    return true;
  }

  /** Return the oldest request waiting for an answer and take it off the line. */
  nextReply() {
    return this.replies.shift();
  }

  /** Return the oldest request waiting for an answer, leaving it in line. */
  peekReply() {
    return this.replies[0];
  }

  ping() {
    // The mark tells the server this console reads what it sends, not only that its timers run.
    this.send({ type: "ping", mark: this.mark });
  }

  /** Close the connection as a network failure would, and stay away at least holdMs before reconnecting. */
  simulateDrop(holdMs) {
    this.holdUntil = this.now() + (holdMs || 0);
    if (this.socket) this.socket.close();
  }
}
