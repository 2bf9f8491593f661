/* The connection: hello on every connection, back-off between attempts, probes answered, answers matched in order. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, Connection } from "../../../conversations/static/conversations/console/connection.js";
import { FakeClock, FakeSocket } from "./fakes.mjs";

function connection({ signedOut = false } = {}) {
  const clock = new FakeClock();
  const sockets = [];
  const seen = { frames: [], statuses: [], closes: 0, sessionEnded: 0, asked: 0 };
  const link = new Connection({
    url: "ws://chat.example/ws/console/",
    now: clock.now,
    later: clock.later,
    cancel: clock.cancel,
    random: () => 0.5, // no spread: the back-off's own numbers
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    checkSession: async () => {
      seen.asked += 1;
      return signedOut;
    },
    hooks: {
      onFrame: (frame) => seen.frames.push(frame),
      onStatus: (status) => seen.statuses.push(status),
      onClose: () => {
        seen.closes += 1;
      },
      onSessionEnded: () => {
        seen.sessionEnded += 1;
      },
    },
  });
  return { link, clock, sockets, seen, latest: () => sockets.at(-1) };
}

test("every connection starts with hello", () => {
  // given
  const { link, latest, seen } = connection();

  // when
  link.connect();
  latest().emit("open");

  // then
  assert.equal(latest().url, "ws://chat.example/ws/console/");
  assert.deepEqual(latest().sent, [{ type: "hello" }]);
  assert.deepEqual(seen.statuses, ["connecting", "online"]);
  assert.equal(link.connected, true);
});

test("reconnecting waits twice as long after each failed attempt, up to 30 s", () => {
  // then
  assert.deepEqual(
    [0, 1, 2, 3, 5, 6, 10].map((attempt) => backoffDelay(attempt, () => 0.5)),
    [500, 1000, 2000, 4000, 16000, 30000, 30000]
  );
  assert.equal(backoffDelay(0, () => 0), 375);
  assert.equal(backoffDelay(0, () => 0.999), 625);
});

test("a dropped connection comes back after the back-off, which a welcome resets", () => {
  // given
  const { link, clock, sockets, latest } = connection();
  link.connect();
  latest().emit("open");

  // when: two attempts fail, the third is welcomed
  latest().close();
  assert.deepEqual(clock.pending(), [500]);
  clock.advance(500);
  latest().close();
  assert.deepEqual(clock.pending(), [1000]);
  clock.advance(1000);
  latest().emit("open");
  link.welcomed();
  latest().close();

  // then
  assert.equal(sockets.length, 3);
  assert.deepEqual(clock.pending(), [500]);
});

test("after two failed attempts the console asks whether the agent is still signed in, and stops when not", async () => {
  // given
  const { link, clock, latest, seen, sockets } = connection({ signedOut: true });
  link.connect();
  latest().close();
  clock.advance(500);

  // when
  latest().close();
  await new Promise((resolve) => setImmediate(resolve));

  // then
  assert.equal(seen.asked, 1);
  assert.equal(seen.sessionEnded, 1);
  assert.deepEqual(clock.pending(), []);
  link.connect();
  assert.equal(sockets.length, 2, "a signed-out console does not reconnect");
});

test("a probe is answered with a ping at once and goes no further", () => {
  // given
  const { link, latest, seen } = connection();
  link.connect();
  latest().emit("open");

  // when
  latest().receive({ type: "probe", mark: 4 });
  latest().receive("not json");
  latest().receive({ no: "type" });
  latest().receive({ type: "pong", conversations: {}, mark: 5 });

  // then the probe's answer names the probe's mark, and only the pong goes on
  assert.deepEqual(latest().sent.at(-1), { type: "ping", mark: 4 });
  assert.deepEqual(seen.frames, [{ type: "pong", conversations: {}, mark: 5 }]);
});

test("a ping names the last mark read on this connection, and a new connection starts from none", () => {
  // given a console that has read the pong with mark 7
  const { link, latest } = connection();
  link.connect();
  latest().emit("open");
  latest().receive({ type: "pong", conversations: {}, mark: 7 });

  // when it pings, then loses the connection, comes back and pings again
  link.ping();
  const before = latest().sent.at(-1);
  latest().emit("close");
  link.connect();
  latest().emit("open");
  link.ping();

  // then the first ping says it read mark 7, the one on the new connection none
  assert.deepEqual(before, { type: "ping", mark: 7 });
  assert.deepEqual(latest().sent.at(-1), { type: "ping", mark: 0 });
});

test("answers are matched to requests in the order they were sent; a new connection forgets the old line", () => {
  // given
  const { link, latest } = connection();
  link.connect();
  latest().emit("open");

  // when
  link.send({ type: "open", conversation: 7, last_seq: 0 }, { conversation: 7 });
  link.send({ type: "typing", conversation: 7, active: true });
  link.send({ type: "message", conversation: 7, body: "Hei", client_msg_id: "a-1" }, { client_msg_id: "a-1" });

  // then: hello first, then open and message; typing gets no answer
  assert.equal(link.nextReply().type, "hello");
  assert.deepEqual(link.peekReply(), { type: "open", conversation: 7 });
  assert.deepEqual(link.nextReply(), { type: "open", conversation: 7 });
  assert.deepEqual(link.nextReply(), { type: "message", client_msg_id: "a-1" });
  link.send({ type: "take", conversation: 8 }, { conversation: 8 });
  latest().close();
  assert.equal(link.peekReply(), undefined);
  assert.equal(link.send({ type: "ping" }), false);
});

test("a rehearsed outage keeps the console away for the time asked", () => {
  // given
  const { link, clock, latest, sockets } = connection();
  link.connect();
  latest().emit("open");

  // when
  link.simulateDrop(2500);

  // then
  assert.deepEqual(clock.pending(), [2500]);
  assert.equal(link.secondsToReconnect(), 3);
  clock.advance(2500);
  assert.equal(sockets.length, 2);
});
