/* Resync: nothing missed silently — a gap in the numbers, or a pong naming a higher last number, fetches the rest. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatState } from "../../../conversations/static/conversations/console/chat-state.js";
import { ChatSync, QUEUE_PREVIEW_LIMIT } from "../../../conversations/static/conversations/console/sync.js";
import { listedChat, message, recorder } from "./fakes.mjs";

/** A console that follows chat 7 and has its history up to `through`. */
function following({ through = 1, mine = [7], queue = [] } = {}) {
  const state = new ChatState();
  const send = recorder();
  const sync = new ChatSync({ state, send, connected: () => send.connected });
  state.applyState({
    type: "state",
    agent: { id: 1, name: "Aino" },
    chats: mine.map((id) => listedChat(id, { last_seq: through })),
    queue: queue.map((id) => listedChat(id)),
  });
  sync.followListed();
  const messages = [];
  for (let seq = 1; seq <= through; seq += 1) messages.push(message(7, seq));
  if (mine.includes(7)) state.applyHistory({ type: "history", conversation: listedChat(7, { last_seq: through }), messages });
  send.sent.length = 0;
  return { state, send, sync, chat: state.chats.get(7) };
}

test("a gap (seq 3 after 1) asks for a resync from 1", () => {
  // given
  const { sync, send } = following({ through: 1 });

  // when
  sync.onMessage(message(7, 3));

  // then
  assert.deepEqual(send.frames(), [{ type: "open", conversation: 7, last_seq: 1 }]);
  assert.deepEqual(send.sent[0].meta, { conversation: 7 });
});

test("the next number in line asks for nothing", () => {
  // given
  const { sync, send, chat } = following({ through: 1 });

  // when
  sync.onMessage(message(7, 2));

  // then
  assert.deepEqual(send.frames(), []);
  assert.equal(chat.loadedThrough, 2);
});

test("one resync at a time: a second gap while the first is fetched asks for nothing more", () => {
  // given
  const { sync, send, state } = following({ through: 1 });
  sync.onMessage(message(7, 3));

  // when
  sync.onMessage(message(7, 5));

  // then
  assert.equal(send.frames("open").length, 1);
  state.applyHistory({ type: "history", conversation: listedChat(7, { last_seq: 3 }), messages: [message(7, 2)] });
  sync.onMessage(message(7, 7));
  assert.deepEqual(send.frames("open").at(-1), { type: "open", conversation: 7, last_seq: 3 });
});

test("a duplicate of a message already here asks for nothing", () => {
  // given
  const { sync, send } = following({ through: 3 });

  // when
  const result = sync.onMessage(message(7, 2));

  // then
  assert.equal(result.added, false);
  assert.deepEqual(send.frames(), []);
});

test("a pong with a higher last_seq fetches from the number everything is here up to", () => {
  // given
  const { sync, send, chat } = following({ through: 2 });

  // when
  const answer = sync.onPong({ type: "pong", conversations: { 7: 4 }, chats: [7], queue: [] });

  // then
  assert.deepEqual(send.frames(), [{ type: "open", conversation: 7, last_seq: 2 }]);
  assert.equal(chat.data.last_seq, 4);
  assert.deepEqual(answer.chats.map((each) => each.id), [7]);
  assert.equal(answer.refresh, false);
});

test("a pong naming the number the console has fetches nothing", () => {
  // given
  const { sync, send } = following({ through: 2 });

  // when
  const answer = sync.onPong({ type: "pong", conversations: { 7: 2 }, chats: [7], queue: [] });

  // then
  assert.deepEqual(send.frames(), []);
  assert.equal(answer.refresh, false);
});

test("a pong whose lists differ from the console's asks for the whole state", () => {
  // given
  const { sync } = following({ through: 2, queue: [8] });

  // when
  const lostAssignment = sync.onPong({ type: "pong", conversations: {}, chats: [7, 9], queue: [8] });
  const lostClose = sync.onPong({ type: "pong", conversations: {}, chats: [7], queue: [] });
  const same = sync.onPong({ type: "pong", conversations: {}, chats: [7], queue: [8] });

  // then
  assert.equal(lostAssignment.refresh, true);
  assert.equal(lostClose.refresh, true);
  assert.equal(same.refresh, false);
});

test("without a connection nothing is sent, and the next connection follows every listed chat again", () => {
  // given
  const { sync, send, chat } = following({ through: 2 });
  send.connected = false;

  // when
  sync.onMessage(message(7, 5));
  send.connected = true;
  sync.reset();
  sync.followListed();

  // then: the history on the new connection starts where the console has everything
  assert.deepEqual(send.frames(), [{ type: "open", conversation: 7, last_seq: 2 }]);
  assert.equal(chat.resyncing, false);
});

test("the console follows all its own chats, the first waiting ones and the chat in view", () => {
  // given
  const queue = Array.from({ length: QUEUE_PREVIEW_LIMIT + 5 }, (_, index) => 100 + index);
  const { sync, send, state } = following({ through: 0, mine: [7, 8], queue });
  sync.reset();
  state.currentId = queue.at(-1);

  // when
  sync.followListed();

  // then
  const opened = send.frames("open").map((frame) => frame.conversation);
  assert.deepEqual(opened, [7, 8, ...queue.slice(0, QUEUE_PREVIEW_LIMIT), queue.at(-1)]);
  assert.ok(send.frames("open").every((frame) => frame.last_seq === 0), "no history yet: from the start");
  sync.followListed();
  assert.equal(send.frames("open").length, opened.length, "each chat is opened once per connection");
});
