/* Canned responses: "/" and the start of a shortcut in the reply box lists the client's own answers;
 * ↑/↓ choose, Enter or Tab inserts, Esc closes. Answers are fetched per chat and prefix and kept.
 */
import { $, make } from "./dom.js";

const DEBOUNCE_MS = 120;
const PREVIEW_LENGTH = 140;

export class CannedResponses {
  /** state: the ChatState; api: the Api; composer: the Composer; t: the translator. */
  constructor({ state, api, composer, t }) {
    Object.assign(this, { state, api, composer, t });
    this.open = false;
    this.token = null; // the "/prefix" being typed: {start, end, prefix}
    this.items = null;
    this.active = -1;
    this.timer = null;
    this.cache = new Map(); // "chat:prefix" → answers
    this.dismissed = null; // where the list was closed with Esc, so it stays closed while typing on
    this.request = 0;
  }

  wire() {
    const input = $("composer-input");
    input.addEventListener("input", () => this.update());
    input.addEventListener("click", () => this.update());
    input.addEventListener("blur", () => this.hide());
  }

  /** Close the list when the agent opens another chat. */
  reset() {
    this.hide();
    this.dismissed = null;
  }

  currentToken() {
    const input = $("composer-input");
    if (input.selectionStart !== input.selectionEnd) return null;
    const before = input.value.slice(0, input.selectionStart);
    const match = /(^|\s)\/([\w-]{0,40})$/.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, end: before.length, prefix: match[2] };
  }

  update() {
    const token = this.composer.canInsert() ? this.currentToken() : null;
    if (!token) {
      this.dismissed = null;
      this.hide();
      return;
    }
    if (this.dismissed === token.start) return;
    this.token = token;
    const chatId = this.state.currentId;
    const key = `${chatId}:${token.prefix.toLowerCase()}`;
    if (this.cache.has(key)) {
      this.show(this.cache.get(key));
      return;
    }
    if (!this.open) this.show(null);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.fetch(chatId, token, key), DEBOUNCE_MS);
  }

  fetch(chatId, token, key) {
    const request = (this.request += 1);
    this.api
      .call(`${this.api.chat(chatId, "canned")}?prefix=${encodeURIComponent(token.prefix)}`)
      .then((data) => {
        this.cache.set(key, data.results || []);
        if (request === this.request && chatId === this.state.currentId) this.update();
      })
      .catch((error) => {
        if (request !== this.request || !this.open) return;
        $("canned-status").textContent = this.api.failureText(error);
      });
  }

  show(items) {
    const same = this.open && items !== null && items === this.items;
    this.open = true;
    this.items = items;
    if (!same) this.active = items && items.length ? 0 : -1;
    const list = $("canned-list");
    list.replaceChildren();
    (items || []).forEach((item, index) => {
      const option = make("li", "canned-option");
      option.id = `canned-option-${index}`;
      option.setAttribute("role", "option");
      option.append(
        make("span", "canned-shortcut", `/${item.shortcut}`),
        make("span", "canned-text", item.text.replace(/\s+/g, " ").slice(0, PREVIEW_LENGTH))
      );
      // mousedown, not click: the reply box keeps its focus and caret.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.insert(item);
      });
      list.append(option);
    });
    const status = $("canned-status");
    if (items === null) status.textContent = this.t("panel_loading");
    else if (!items.length) status.textContent = this.t("canned_none", { prefix: this.token.prefix });
    else status.textContent = "";
    $("canned").hidden = false;
    $("composer-input").setAttribute("aria-expanded", "true");
    this.renderActive();
  }

  renderActive() {
    const input = $("composer-input");
    $("canned-list")
      .querySelectorAll(".canned-option")
      .forEach((option, index) => {
        const active = index === this.active;
        option.setAttribute("aria-selected", active ? "true" : "false");
        option.classList.toggle("is-active", active);
        if (active) option.scrollIntoView({ block: "nearest" });
      });
    if (this.active >= 0) input.setAttribute("aria-activedescendant", `canned-option-${this.active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  hide() {
    window.clearTimeout(this.timer);
    this.open = false;
    this.items = null;
    this.active = -1;
    $("canned").hidden = true;
    $("canned-list").replaceChildren();
    $("composer-input").setAttribute("aria-expanded", "false");
    $("composer-input").removeAttribute("aria-activedescendant");
  }

  dismiss() {
    if (this.token) this.dismissed = this.token.start;
    this.hide();
  }

  insert(item) {
    const { token } = this;
    this.hide();
    this.dismissed = null;
    if (token) this.composer.insert(item.text, { start: token.start, end: token.end });
  }

  /** Keys in the reply box while the list is open; return true when the key was used here. */
  onKey(event) {
    if (!this.open || event.isComposing) return false;
    const count = this.items ? this.items.length : 0;
    const { key } = event;
    if ((key === "ArrowDown" || key === "ArrowUp") && count) {
      event.preventDefault();
      this.active = (this.active + (key === "ArrowDown" ? 1 : -1) + count) % count;
      this.renderActive();
      return true;
    }
    if ((key === "Enter" || key === "Tab") && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      if (count && this.active >= 0) {
        event.preventDefault();
        this.insert(this.items[this.active]);
        return true;
      }
      if (key === "Enter") {
        // Nothing to insert: close the list rather than send "/something" to the visitor.
        event.preventDefault();
        this.dismiss();
        return true;
      }
      return false;
    }
    if (key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.dismiss();
      return true;
    }
    return false;
  }
}
