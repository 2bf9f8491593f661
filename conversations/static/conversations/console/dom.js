/* Page helpers shared by the console's modules: finding and making elements, the JSON blocks the template
 * writes, what the browser keeps between reloads, dialogs and toasts.
 *
 * Text from the server only ever reaches the page through textContent (make's third argument).
 */
import { formatFullMoment, formatWhen, parseTime } from "./format.js";

export function $(id) {
  return document.getElementById(id);
}

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Return the JSON of a <script type="application/json" id=…> block of the page, or null. */
export function readJson(id) {
  const node = $(id);
  return node ? JSON.parse(node.textContent) : null;
}

/** What the browser keeps for this agent between reloads (localStorage), by name. */
export class Keeper {
  constructor(prefix) {
    this.prefix = prefix;
  }

  load(name, fallback) {
    try {
      const raw = window.localStorage.getItem(this.prefix + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  }

  store(name, value) {
    try {
      window.localStorage.setItem(this.prefix + name, JSON.stringify(value));
    } catch {
      /* Private mode or a full storage: the console still works, it only forgets on reload. */
    }
  }
}

export function showDialog(dialog) {
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
}

/** Show a short message in the corner; errors stay longer. */
export function toast(text, kind) {
  const node = make("div", `toast${kind ? ` toast-${kind}` : ""}`, text);
  $("toasts").append(node);
  window.setTimeout(
    () => {
      node.classList.add("is-leaving");
      window.setTimeout(() => node.remove(), 300);
    },
    kind === "error" ? 7000 : 3500
  );
}

/** Whether a modal dialog has the keyboard. */
export function dialogOpen() {
  return !!document.querySelector("dialog[open]");
}

/** Return a <time> for an ISO moment, written for the reader, with the full date and time as its title. */
export function timeNode(value) {
  const node = make("time", "ws-time", formatWhen(value));
  node.dateTime = value || "";
  const ms = parseTime(value);
  if (ms !== null) node.title = formatFullMoment(ms);
  return node;
}
