/* The outbox: what the agent wrote waits here, in order, until the server acknowledges it. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { Outbox } from "../../../conversations/static/conversations/console/outbox.js";
import { FakeClock, recorder } from "./fakes.mjs";

function item(id, conversation = 7) {
  return { conversation, client_msg_id: id, body: `text ${id}`, created_at: "2025-03-03T10:00:00Z" };
}

function outboxWith({ items = [], random = () => 0 } = {}) {
  const clock = new FakeClock();
  const send = recorder();
  const saved = [];
  const outbox = new Outbox({
    items,
    send,
    connected: () => send.connected,
    later: clock.later,
    random,
    save: (list) => saved.push(list.map((entry) => entry.client_msg_id)),
  });
  return { outbox, send, clock, saved };
}

test("the outbox keeps messages in the order they were written and sends them again in that order", () => {
  // given
  const { outbox, send } = outboxWith();
  ["a-1", "a-2", "a-3"].forEach((id) => outbox.add(item(id)));

  // when
  outbox.flush();

  // then
  assert.deepEqual(
    send.frames("message").map((frame) => frame.client_msg_id),
    ["a-1", "a-2", "a-3"]
  );
  assert.deepEqual(send.frames("message")[0], { type: "message", conversation: 7, body: "text a-1", client_msg_id: "a-1" });
  assert.deepEqual(send.sent[0].meta, { client_msg_id: "a-1", conversation: 7 });
});

test("an acknowledged message leaves the outbox and the rest keep their order", () => {
  // given
  const { outbox, saved } = outboxWith();
  ["a-1", "a-2", "a-3"].forEach((id) => outbox.add(item(id)));

  // when
  const removed = outbox.remove("a-2");

  // then
  assert.equal(removed, true);
  assert.deepEqual(outbox.items.map((entry) => entry.client_msg_id), ["a-1", "a-3"]);
  assert.deepEqual(saved.at(-1), ["a-1", "a-3"]);
  assert.equal(outbox.remove("a-2"), false);
});

test("what a reload found saved is sent again with the same client ids", () => {
  // given
  const { outbox, send } = outboxWith({ items: [item("a-9"), item("a-10", 8)] });

  // when
  outbox.flush();

  // then
  assert.equal(outbox.size, 2);
  assert.deepEqual(send.frames().map((frame) => [frame.conversation, frame.client_msg_id]), [
    [7, "a-9"],
    [8, "a-10"],
  ]);
});

test("an overloaded message stays in the outbox and is sent again after retry_after", () => {
  // given
  const { outbox, send, clock } = outboxWith({ random: () => 0 });
  outbox.sendItem(outbox.add(item("a-1")));

  // when
  const delay = outbox.retryAfter("a-1", 3);

  // then: nothing before the server's time, the same message once after it
  assert.equal(delay, 3000);
  assert.equal(outbox.size, 1);
  clock.advance(2999);
  assert.equal(send.frames().length, 1);
  clock.advance(1);
  assert.deepEqual(send.frames().map((frame) => frame.client_msg_id), ["a-1", "a-1"]);
});

test("retries of many consoles are spread up to half as much again, and default to 2 s", () => {
  // given
  const { outbox } = outboxWith({ random: () => 0.999 });
  outbox.add(item("a-1"));

  // when
  const spread = outbox.retryAfter("a-1", 4);
  const unnamed = outbox.retryAfter("a-1", undefined);

  // then
  assert.ok(spread > 5990 && spread < 6000, spread);
  assert.ok(unnamed > 2990 && unnamed < 3000, unnamed);
});

test("a retry is dropped when the message was acknowledged meanwhile", () => {
  // given
  const { outbox, send, clock } = outboxWith();
  outbox.add(item("a-1"));
  outbox.retryAfter("a-1", 1);

  // when
  outbox.remove("a-1");
  clock.advance(5000);

  // then
  assert.equal(send.frames().length, 0);
});

test("a retry due while the connection is down waits for the flush after the reconnect", () => {
  // given
  const { outbox, send, clock } = outboxWith();
  outbox.add(item("a-1"));
  outbox.retryAfter("a-1", 1);
  send.connected = false;

  // when
  clock.advance(5000);

  // then
  assert.equal(send.frames().length, 0);
  assert.equal(outbox.size, 1);
  send.connected = true;
  outbox.flush();
  assert.deepEqual(send.frames().map((frame) => frame.client_msg_id), ["a-1"]);
});

test("a refused message leaves the outbox and is handed back to be shown as not sent", () => {
  // given
  const { outbox } = outboxWith();
  outbox.add(item("a-1", 7));
  outbox.add(item("a-2", 8));

  // when
  const refused = outbox.fail("a-1");

  // then
  assert.equal(refused.body, "text a-1");
  assert.deepEqual(outbox.forChat(7), []);
  assert.deepEqual(outbox.forChat(8).map((entry) => entry.client_msg_id), ["a-2"]);
  assert.equal(outbox.fail("a-1"), null);
});
