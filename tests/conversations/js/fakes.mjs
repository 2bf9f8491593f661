/* Stand-ins for what leaves the console's pure modules: a clock with timers, a WebSocket, a place to send. */

/** A clock that moves only when told to, with timers that fire as it passes them. */
export class FakeClock {
  constructor(start = Date.parse("2025-03-03T10:00:00Z")) {
    this.time = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.time;
    this.later = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.time + ms, fn });
      return id;
    };
    this.cancel = (id) => this.timers.delete(id);
  }

  /** Move the clock forward, firing every timer that falls due, in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at);
      if (!due.length) break;
      const [id, timer] = due[0];
      this.timers.delete(id);
      this.time = timer.at;
      timer.fn();
    }
    this.time = end;
  }

  /** Return the delays of the timers still waiting, from now. */
  pending() {
    return [...this.timers.values()].map((timer) => timer.at - this.time);
  }
}

/** Records every frame sent; answers true (connected) unless told otherwise. */
export function recorder() {
  const sent = [];
  const send = (frame, meta) => {
    if (!send.connected) return false;
    sent.push({ frame, meta });
    return true;
  };
  send.connected = true;
  send.sent = sent;
  send.frames = (type) => sent.map((entry) => entry.frame).filter((frame) => !type || frame.type === type);
  return send;
}

/** A WebSocket the test opens, feeds and closes by hand. */
export class FakeSocket {
  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.sent = [];
    this.closed = false;
  }

  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }

  emit(type, event = {}) {
    (this.listeners[type] || []).forEach((listener) => listener(event));
  }

  send(data) {
    this.sent.push(JSON.parse(data));
  }

  close() {
    this.closed = true;
    this.emit("close");
  }

  /** Let the server say something. */
  receive(frame) {
    this.emit("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
}

/** A message frame as the server sends it. */
export function message(conversation, seq, { sender = "visitor", body = `message ${seq}`, ...rest } = {}) {
  return { type: "message", conversation, seq, sender, body, created_at: "2025-03-03T10:00:00Z", ...rest };
}

/** A chat as a state frame lists it. */
export function listedChat(conversation, rest = {}) {
  return { conversation, tenant_name: "Kahvila Oy", visitor: "#1", status: "assigned", last_seq: 0, ...rest };
}
