/* From a frame to what the console does, through the real state, sync, outbox and connection (no page). */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatState } from "../../../conversations/static/conversations/console/chat-state.js";
import { Connection } from "../../../conversations/static/conversations/console/connection.js";
import { translator } from "../../../conversations/static/conversations/console/format.js";
import { FrameHandler } from "../../../conversations/static/conversations/console/frames.js";
import { Outbox } from "../../../conversations/static/conversations/console/outbox.js";
import { ChatSync } from "../../../conversations/static/conversations/console/sync.js";
import { FakeClock, FakeSocket, listedChat, message } from "./fakes.mjs";

/** A console connected to a fake server, welcomed with chat 7 of the agent's and its history through message 1. */
function console_() {
  const clock = new FakeClock();
  let socket = null;
  const page = { toasts: [], rendered: [], alerts: [] };
  const connection = new Connection({
    url: "ws://chat.example/ws/console/",
    now: clock.now,
    later: clock.later,
    cancel: clock.cancel,
    openSocket: (url) => (socket = new FakeSocket(url)),
    hooks: {
      onOpen: () => frames.opened(),
      onFrame: (frame) => frames.handle(frame),
    },
  });
  const outbox = new Outbox({ send: (f, m) => connection.send(f, m), connected: () => connection.connected, later: clock.later, random: () => 0 });
  const state = new ChatState({ now: clock.now, onStored: (id) => outbox.remove(id) });
  const sync = new ChatSync({ state, send: (f, m) => connection.send(f, m), connected: () => connection.connected });
  const ignore = () => {};
  const frames = new FrameHandler({
    state,
    sync,
    outbox,
    connection,
    t: translator({ error_closed: "The chat has ended.", error_default: "Error: %(message)s" }),
    toast: (text, kind) => page.toasts.push([text, kind]),
    later: clock.later,
    alerts: { newChat: (chat) => page.alerts.push(["chat", chat.id]), newMessage: (chat) => page.alerts.push(["message", chat.id]) },
    notices: { refresh: ignore },
    pane: { renderMessages: ignore },
    transfer: { reconnected: ignore, assigned: ignore, withdrawn: ignore },
    closeDialog: {},
    renderAll: () => page.rendered.push("all"),
    renderChat: (chat) => page.rendered.push(chat.id),
    renderPane: ignore,
    renderPresence: ignore,
    openNextChat: ignore,
    focusComposer: ignore,
  });
  connection.connect();
  socket.emit("open");
  const server = {
    say: (frame) => socket.receive(frame),
    heard: (type) => socket.sent.filter((frame) => !type || frame.type === type),
    forget: () => (socket.sent.length = 0),
    drop: () => socket.close(),
    // The console comes back after its back-off (under a second after the first drop) on a new socket.
    reopen: () => {
      clock.advance(1000);
      socket.emit("open");
    },
  };
  server.say({ type: "welcome", agent: { id: 1, name: "Aino" }, chats: [listedChat(7, { last_seq: 1 })], queue: [] });
  server.say({ type: "history", conversation: listedChat(7, { last_seq: 1 }), messages: [message(7, 1)] });
  server.forget();
  return { server, state, outbox, clock, page, connection };
}

function write(outbox, id) {
  return outbox.sendItem(outbox.add({ conversation: 7, client_msg_id: id, body: `text ${id}`, created_at: "2025-03-03T10:00:00Z" }));
}

test("a welcome follows the agent's chats and a gap in the live feed fetches from the last whole number", () => {
  // given
  const { server, state } = console_();

  // when
  server.say(message(7, 3));

  // then
  assert.deepEqual(server.heard(), [{ type: "open", conversation: 7, last_seq: 1 }]);
  server.say({ type: "history", conversation: listedChat(7, { last_seq: 3 }), messages: [message(7, 2), message(7, 3)] });
  assert.deepEqual([...state.chats.get(7).messages.keys()].sort(), [1, 2, 3]);
  assert.equal(state.chats.get(7).loadedThrough, 3);
});

test("a pong with a higher last_seq fetches the lost tail", () => {
  // given
  const { server } = console_();

  // when
  server.say({ type: "pong", conversations: { 7: 5 }, chats: [7], queue: [] });

  // then
  assert.deepEqual(server.heard(), [{ type: "open", conversation: 7, last_seq: 1 }]);
});

test("a pong whose lists differ asks for the whole state once for a burst", () => {
  // given
  const { server, clock } = console_();

  // when
  server.say({ type: "pong", conversations: {}, chats: [7, 8], queue: [] });
  server.say({ type: "queue", conversation: 9 });
  clock.advance(100);

  // then
  assert.deepEqual(server.heard(), [{ type: "hello" }]);
});

test("an ack takes the message out of the outbox and shows it under the server's number", () => {
  // given
  const { server, outbox, state } = console_();
  write(outbox, "a-1");
  write(outbox, "a-2");

  // when
  server.say({ type: "ack", conversation: 7, client_msg_id: "a-1", seq: 2 });

  // then
  assert.deepEqual(outbox.items.map((item) => item.client_msg_id), ["a-2"]);
  assert.equal(state.chats.get(7).messages.get(2).client_msg_id, "a-1");
});

test("an overloaded message stays in the outbox and is sent again after retry_after", () => {
  // given
  const { server, outbox, clock } = console_();
  write(outbox, "a-1");

  // when
  server.say({ type: "error", code: "overloaded", ref: "message", client_msg_id: "a-1", retry_after: 2 });

  // then
  assert.equal(outbox.size, 1);
  assert.equal(server.heard("message").length, 1);
  clock.advance(2000);
  assert.deepEqual(server.heard("message").map((frame) => frame.client_msg_id), ["a-1", "a-1"]);
  server.say({ type: "ack", conversation: 7, client_msg_id: "a-1", seq: 2 });
  assert.equal(outbox.size, 0);
});

test("an error answers the oldest request waiting: a refused message is shown as not sent", () => {
  // given
  const { server, outbox, state } = console_();
  write(outbox, "a-1");
  write(outbox, "a-2");

  // when
  server.say({ type: "error", code: "too_long", message: "Too long." });

  // then
  assert.deepEqual(state.chats.get(7).failed, [{ client_msg_id: "a-1", body: "text a-1", reason: "Error: Too long." }]);
  assert.deepEqual(outbox.items.map((item) => item.client_msg_id), ["a-2"]);
  server.say({ type: "ack", conversation: 7, client_msg_id: "a-2", seq: 2 });
  assert.equal(outbox.size, 0);
});

test("a new connection sends the outbox again once it is welcomed, in order", () => {
  // given
  const { server, outbox, connection } = console_();
  server.drop();
  write(outbox, "a-1");
  write(outbox, "a-2");
  assert.equal(connection.connected, false);

  // when
  server.reopen();
  server.say({ type: "welcome", agent: { id: 1, name: "Aino" }, chats: [listedChat(7, { last_seq: 1 })], queue: [] });

  // then: hello, the chat followed again from the number it has, then the outbox in order
  assert.deepEqual(server.heard().map((frame) => [frame.type, frame.client_msg_id ?? frame.last_seq ?? null]), [
    ["hello", null],
    ["open", 1],
    ["message", "a-1"],
    ["message", "a-2"],
  ]);
});

test("a chat closed with messages still in the outbox shows them as not sent", () => {
  // given
  const { server, outbox, state } = console_();
  write(outbox, "a-1");

  // when
  server.say({ type: "closed", conversation: 7, status: "closed", outcome: "visitor_left" });

  // then
  assert.equal(outbox.size, 0);
  assert.equal(state.chats.get(7).failed[0].reason, "The chat has ended.");
});

test("a visitor's message alerts unless the agent has that chat in view; a duplicate alerts nothing", () => {
  // given
  const { server, page, state } = console_();

  // when
  server.say(message(7, 2));
  server.say(message(7, 2));
  state.currentId = 7;
  server.say(message(7, 3));

  // then
  assert.deepEqual(page.alerts, [["message", 7]]);
});
