/* Words and formats: the console's translated strings and how it writes times and durations.
 *
 * Pure: no page, no clock of its own (a caller passes "now" where it matters), so Node's test runner can
 * load it. The console's modules need an ES2022 browser: Chromium/Chrome/Edge 94+, Firefox 93+, Safari 15.4+.
 */

/** Return t(key, params): the string for key ("%(name)s" filled from params), or the key itself when missing. */
export function translator(table) {
  const has = (key) => Object.hasOwn(table, key);
  const t = (key, params) => {
    const text = has(key) ? table[key] : key;
    if (!params) return text;
    return text.replace(/%\((\w+)\)s/g, (match, name) => (Object.hasOwn(params, name) ? String(params[name]) : match));
  };
  t.has = has;
  // A string's raw value, for the few that are not text (the list of "N chats" plural forms).
  t.raw = (key) => table[key];
  return t;
}

/** Return milliseconds since the epoch for an ISO time, or null for nothing or nonsense. */
export function parseTime(value) {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Write seconds as m:ss (a first-response timer). */
export function formatDuration(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const rest = whole % 60;
  return `${Math.floor(whole / 60)}:${rest < 10 ? "0" : ""}${rest}`;
}

/** Return the page's language (<html lang>), which the console's dates and times are written in. */
export function pageLanguage() {
  return globalThis.document?.documentElement?.lang || undefined;
}

/** Write the time of day in the page's language, hours and minutes, on the agent's own clock. */
export function formatClockTime(ms, language = pageLanguage(), timeZone = undefined) {
  return new Intl.DateTimeFormat(language, { timeStyle: "short", timeZone }).format(ms);
}

/** Write a moment: the time alone when it is today, else the date and the time (the page's language). */
export function formatWhen(value, today = new Date(), language = pageLanguage(), timeZone = undefined) {
  const ms = parseTime(value);
  if (ms === null) return "";
  const day = new Intl.DateTimeFormat(language, { day: "numeric", month: "short", year: "numeric", timeZone });
  const clock = formatClockTime(ms, language, timeZone);
  return day.format(ms) === day.format(today) ? clock : `${day.format(ms)} ${clock}`;
}

/** Write a moment in full with its zone's name (a tooltip): the date, the time and e.g. "EET". */
export function formatFullMoment(ms, language = pageLanguage(), timeZone = undefined) {
  const full = { dateStyle: "medium", timeStyle: "short", timeZone };
  const zone = new Intl.DateTimeFormat(language, { timeZoneName: "short", timeZone }).formatToParts(ms);
  const name = zone.find((part) => part.type === "timeZoneName");
  return `${new Intl.DateTimeFormat(language, full).format(ms)}${name ? ` ${name.value}` : ""}`;
}

/** Return a date as YYYY-MM-DD in the browser's own zone (the value of an <input type=date>). */
export function localDate(date) {
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Make a client-side id for a message, so that a resend is stored once. */
export function newClientMsgId(random = Math.random) {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") return `a-${globalThis.crypto.randomUUID()}`;
  return `a-${Date.now().toString(36)}-${random().toString(36).slice(2, 12)}`;
}

/** Say what an error frame means: its own string ("error_<code>") or the server's message. */
export function errorText(t, frame) {
  const key = `error_${frame.code}`;
  return t.has(key) ? t(key) : t("error_default", { message: frame.message || frame.code });
}
