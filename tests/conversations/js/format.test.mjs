/* Times written by the console and the live pages: the page's language, the labelled zone's clock. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

import {
  formatClockTime,
  formatFullMoment,
  formatWhen,
} from "../../../conversations/static/conversations/console/format.js";

// 04:40 UTC on Monday 7 December 2026: 06:40 in Helsinki, 05:40 in Warsaw.
const MOMENT = Date.parse("2026-12-07T04:40:00Z");
const HELSINKI = "Europe/Helsinki";

test("the time of day is written as the page's language writes it, on the given clock", () => {
  assert.equal(formatClockTime(MOMENT, "fi", HELSINKI), "6.40");
  assert.equal(formatClockTime(MOMENT, "pl", HELSINKI), "06:40");
  assert.equal(formatClockTime(MOMENT, "en", HELSINKI), "6:40 AM");
  assert.equal(formatClockTime(MOMENT, "pl", "Europe/Warsaw"), "05:40");
});

test("a moment of another day gets its date in the page's language", () => {
  const nextDay = new Date(MOMENT + 86_400_000);
  assert.equal(formatWhen("2026-12-07T04:40:00Z", new Date(MOMENT), "fi", HELSINKI), "6.40");
  assert.equal(formatWhen("2026-12-07T04:40:00Z", nextDay, "fi", HELSINKI), "7.12.2026 6.40");
  assert.equal(formatWhen("2026-12-07T04:40:00Z", nextDay, "pl", HELSINKI), "7 gru 2026 06:40");
});

test("a full moment names its zone", () => {
  const full = formatFullMoment(MOMENT, "fi", HELSINKI);
  assert.match(full, /7\.12\.2026/);
  assert.match(full, /6\.40/);
  assert.match(full, /UTC\+2|EET/);
  assert.doesNotMatch(formatFullMoment(MOMENT, "pl", HELSINKI), /04:40|a\.m\.|AM/);
});

test("the page's language comes from <html lang>", () => {
  globalThis.document = { documentElement: { lang: "pl" } };
  try {
    assert.equal(formatClockTime(MOMENT, undefined, HELSINKI), "06:40");
  } finally {
    delete globalThis.document;
  }
});

test("the live pages write 'as of' times on the labelled zone's clock, with its name", () => {
  const source = readFileSync(new URL("../../../reporting/static/reporting/live.js", import.meta.url), "utf8");
  const page = { document: { documentElement: { lang: "fi" } }, Intl, Date, window: {} };
  vm.runInNewContext(source, page);
  assert.equal(page.window.chatopsLive.clockTime(new Date(MOMENT), HELSINKI), "6.40 UTC+2");
  page.document.documentElement.lang = "pl";
  assert.equal(page.window.chatopsLive.clockTime(new Date(MOMENT), "Europe/Warsaw"), "05:40 CET");
  page.document.documentElement.lang = "en";
  assert.equal(page.window.chatopsLive.clockTime(new Date(MOMENT), HELSINKI), "6:40 AM GMT+2");
});
