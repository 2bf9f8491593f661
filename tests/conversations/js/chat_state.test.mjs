/* Chat state: messages by number, both lists, unread, the visitor's presence and the first-response timer. */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ChatState,
  PLACEHOLDER_TTL_MS,
  VISITOR_LEFT_DELAY_MS,
} from "../../../conversations/static/conversations/console/chat-state.js";
import { FakeClock, listedChat, message } from "./fakes.mjs";

function stateWith(options = {}) {
  const clock = new FakeClock();
  const kept = {};
  const stored = [];
  const state = new ChatState({
    now: clock.now,
    persist: (name, value) => {
      kept[name] = JSON.parse(JSON.stringify(value));
    },
    onStored: (clientMsgId) => stored.push(clientMsgId),
    ...options,
  });
  return { state, clock, kept, stored };
}

function stateFrame({ chats = [], queue = [], agent = { id: 1, name: "Aino", presence: "online" } } = {}) {
  return { type: "state", agent, chats: chats.map((id) => listedChat(id)), queue: queue.map((id) => listedChat(id)) };
}

test("a message that arrives twice is kept once", () => {
  // given
  const { state } = stateWith();
  state.applyState(stateFrame({ chats: [7] }));
  state.applyMessage(message(7, 1));

  // when
  const again = state.applyMessage(message(7, 1, { body: "the same number again" }));

  // then
  const chat = state.chats.get(7);
  assert.equal(again.added, false);
  assert.equal(chat.messages.size, 1);
  assert.equal(chat.messages.get(1).body, "message 1");
});

test("the number up to which every message is here stops at the first one missing", () => {
  // given
  const { state } = stateWith();
  const chat = state.ensureChat(7);

  // when
  [1, 2, 4].forEach((seq) => state.addMessage(chat, message(7, seq)));

  // then
  assert.equal(chat.loadedThrough, 2);
  assert.equal(state.lastKnownSeq(chat), 4);
  state.addMessage(chat, message(7, 3));
  assert.equal(chat.loadedThrough, 4);
});

test("a stored message of the agent's names its client id, so it can leave the outbox", () => {
  // given
  const { state, stored } = stateWith();
  state.applyState(stateFrame({ chats: [7] }));

  // when
  state.applyHistory({
    type: "history",
    conversation: listedChat(7, { last_seq: 1 }),
    messages: [message(7, 1, { sender: "agent", client_msg_id: "a-1" })],
  });

  // then
  assert.deepEqual(stored, ["a-1"]);
});

test("an ack stores the agent's message under the server's number and retires the transfer note", () => {
  // given
  const { state } = stateWith({ transferNotes: { 7: { by: "Bea", note: "refund", at: 0 } } });
  state.applyState(stateFrame({ chats: [7] }));
  const item = { conversation: 7, client_msg_id: "a-1", body: "Hello!" };

  // when
  const chat = state.applyAck({ type: "ack", client_msg_id: "a-1", seq: 3 }, item);

  // then
  assert.equal(chat.messages.get(3).body, "Hello!");
  assert.equal(chat.messages.get(3).sender, "agent");
  assert.equal(state.transferNotes[7], undefined);
});

test("unread counts the visitor's messages after the last one read, and nothing in a chat that ended", () => {
  // given
  const { state } = stateWith();
  state.applyState(stateFrame({ chats: [7] }));
  const chat = state.chats.get(7);
  chat.loaded = true;
  state.applyMessage(message(7, 1));
  state.applyMessage(message(7, 2, { sender: "agent" }));
  state.applyMessage(message(7, 3));

  // then
  assert.equal(state.unreadCount(chat), 2);
  assert.equal(state.totalUnread(), 2);
  state.currentId = 7;
  state.markRead(chat);
  assert.equal(state.unreadCount(chat), 0);
  state.applyMessage(message(7, 4));
  assert.equal(state.unreadCount(chat), 0, "a message in the chat in view is read at once");
  chat.gone = "closed";
  state.currentId = null;
  state.applyMessage(message(7, 5));
  assert.equal(state.unreadCount(chat), 0);
});

test("a chat in view is not read while the page is hidden", () => {
  // given
  let visible = false;
  const { state, kept } = stateWith({ pageVisible: () => visible });
  state.applyState(stateFrame({ chats: [7] }));
  state.currentId = 7;

  // when
  state.applyMessage(message(7, 1));

  // then
  assert.equal(state.unreadCount(state.chats.get(7)), 1);
  visible = true;
  state.markRead(state.chats.get(7));
  assert.equal(state.unreadCount(state.chats.get(7)), 0);
  assert.deepEqual(kept.read, { 7: 1 });
});

test("a waiting chat never opened counts its messages as unread from the number in the state", () => {
  // given
  const { state } = stateWith();

  // when
  state.applyState({ type: "state", agent: {}, chats: [], queue: [listedChat(9, { last_seq: 3 })] });

  // then
  assert.equal(state.unreadCount(state.chats.get(9)), 3);
});

test("a state frame names the chats new to the lists, never on the first one", () => {
  // given
  const { state } = stateWith();

  // when
  const first = state.applyState(stateFrame({ chats: [7], queue: [8] }));
  const second = state.applyState(stateFrame({ chats: [7], queue: [8, 9] }));

  // then
  assert.deepEqual(first, []);
  assert.deepEqual(second.map((chat) => chat.id), [9]);
  assert.deepEqual(state.visibleOrder(), [7, 8, 9]);
});

test("a chat that leaves the lists is retired: closed when it was closing, else gone", () => {
  // given
  const { state } = stateWith();
  state.applyState(stateFrame({ chats: [7, 8] }));
  state.chats.get(7).closing = true;

  // when
  state.applyState(stateFrame({ chats: [] }));

  // then
  assert.equal(state.chats.get(7).gone, "closed");
  assert.equal(state.chats.get(8).gone, "gone");
  assert.ok(state.retired.has(7) && state.retired.has(8));
  const late = state.applyMessage(message(8, 1));
  assert.equal(late.retired, true);
});

test("a chat known only from a live message is dropped when no state names it in time", () => {
  // given
  const { state, clock } = stateWith();
  state.applyState(stateFrame());
  const first = state.applyMessage(message(12, 1));

  // when
  clock.advance(PLACEHOLDER_TTL_MS + 1);
  state.applyState(stateFrame());

  // then
  assert.equal(first.unknown, true);
  assert.equal(state.chats.get(12).gone, "gone");
});

test("a state that is older than a message keeps what the message taught", () => {
  // given
  const { state } = stateWith();
  state.applyState(stateFrame({ chats: [7] }));
  state.applyMessage(message(7, 4));

  // when
  state.applyState({ type: "state", agent: {}, chats: [listedChat(7, { last_seq: 2, first_visitor_message_at: null })] });

  // then
  assert.equal(state.chats.get(7).data.last_seq, 4);
  assert.equal(state.chats.get(7).data.first_visitor_message_at, "2025-03-03T10:00:00Z");
});

test("a closed frame takes the chat out of both lists at once", () => {
  // given
  const { state } = stateWith();
  state.applyState(stateFrame({ chats: [7], queue: [8] }));

  // when
  const chat = state.applyClosed({ type: "closed", conversation: 7, outcome: "visitor_left" });

  // then
  assert.equal(chat.gone, "closed");
  assert.deepEqual(state.mineIds, []);
  assert.deepEqual(state.visibleOrder(), [8]);
  assert.equal(state.applyClosed({ type: "closed", conversation: 99 }), null);
});

test("the visitor is shown as left only a moment after their last page closed", () => {
  // given
  const { state, clock } = stateWith();
  state.applyState(stateFrame({ chats: [7] }));
  const chat = state.chats.get(7);

  // when
  state.applyVisitor({ type: "visitor", conversation: 7, visitor_present: false });

  // then
  assert.equal(state.visitorGone(chat), false);
  clock.advance(VISITOR_LEFT_DELAY_MS);
  assert.equal(state.visitorGone(chat), true);
  state.applyVisitor({ type: "visitor", conversation: 7, visitor_present: true });
  assert.equal(state.visitorGone(chat), false);
});

test("the first-response timer runs from the visitor's first message, turns near and late, and stops at the reply", () => {
  // given
  const { state, clock } = stateWith();
  state.applyState({
    type: "state",
    agent: {},
    chats: [listedChat(7, { first_visitor_message_at: new Date(clock.now()).toISOString(), first_response_target_seconds: 10 })],
  });
  const chat = state.chats.get(7);

  // then
  assert.deepEqual(state.firstResponse(chat), { state: "running", target: 10, seconds: 0, level: "ok" });
  clock.advance(7000);
  assert.equal(state.firstResponse(chat).level, "near");
  clock.advance(4000);
  assert.equal(state.firstResponse(chat).level, "late");
  state.addMessage(chat, message(7, 2, { sender: "agent", created_at: new Date(clock.now() - 3000).toISOString() }));
  assert.deepEqual(state.firstResponse(chat), { state: "done", target: 10, seconds: 8, level: "ok" });
});

test("a message left outside service hours runs no first-response timer", () => {
  // given
  const { state } = stateWith();

  // when
  state.applyState({ type: "state", agent: {}, queue: [listedChat(7, { origin: "offline", first_visitor_message_at: "2025-03-01T10:00:00Z" })] });

  // then
  assert.equal(state.firstResponse(state.chats.get(7)).state, "message");
});

test("a transfer note is kept for the agent it names until the chat is no longer theirs", () => {
  // given
  const { state, clock, kept } = stateWith();
  state.applyState(stateFrame({ chats: [] }));

  // when
  state.noteTransfer({ type: "assigned", conversation: 7, agent: 1, transferred_by: "Bea", transfer_note: "refund" });
  state.noteTransfer({ type: "assigned", conversation: 8, agent: 2, transferred_by: "Bea", transfer_note: "not mine" });

  // then
  assert.deepEqual(Object.keys(state.transferNotes), ["7"]);
  assert.equal(kept.transfers[7].note, "refund");
  state.applyState(stateFrame({ chats: [7] }));
  clock.advance(PLACEHOLDER_TTL_MS + 1);
  state.applyState(stateFrame({ chats: [] }));
  assert.deepEqual(state.transferNotes, {});
});
