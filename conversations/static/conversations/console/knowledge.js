/* The knowledge base beside the chat: search the client's published articles (Alt+K), see the matching
 * words marked, and Insert an article's text into the reply where the caret was. Answers for a chat no
 * longer in view, or for an older search, are dropped.
 */
import { $, make } from "./dom.js";

const DEBOUNCE_MS = 350;
const MIN_LENGTH = 3;

export class KnowledgeSearch {
  /** api: the Api; composer: the Composer; chatId(): the chat the panel shows; t: the translator. */
  constructor({ api, composer, chatId, t }) {
    Object.assign(this, { api, composer, chatId, t });
    this.results = null;
    this.query = "";
    this.request = 0;
    this.timer = null;
  }

  wire() {
    $("kb-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search($("kb-query").value);
    });
    $("kb-query").addEventListener("input", () => this.typed());
  }

  typed() {
    window.clearTimeout(this.timer);
    const query = $("kb-query").value.trim();
    if (!query) {
      this.request += 1;
      this.results = null;
      this.render();
      return;
    }
    if (query.length < MIN_LENGTH) return;
    this.timer = window.setTimeout(() => this.search(query), DEBOUNCE_MS);
  }

  /** Forget the last chat's results; search again for what the box still holds. */
  reset() {
    window.clearTimeout(this.timer);
    this.results = null;
    this.request += 1;
    $("kb-results").replaceChildren();
    $("kb-status").textContent = "";
    if (this.chatId() === null) return;
    const query = $("kb-query").value.trim();
    if (query) this.search(query);
  }

  search(text) {
    const id = this.chatId();
    const request = (this.request += 1);
    window.clearTimeout(this.timer);
    const query = text.trim();
    if (!query || id === null) {
      this.results = null;
      this.render();
      return;
    }
    $("kb-status").textContent = this.t("search_searching");
    $("kb-results").setAttribute("aria-busy", "true");
    const current = () => request === this.request && this.chatId() === id;
    this.api
      .call(`${this.api.chat(id, "search")}?q=${encodeURIComponent(query)}`)
      .then((data) => {
        if (!current()) return;
        this.results = data.results || [];
        this.query = query;
        this.render();
      })
      .catch((error) => {
        if (!current()) return;
        $("kb-results").setAttribute("aria-busy", "false");
        $("kb-status").textContent = this.t("search_failed", { message: this.api.failureText(error) });
      });
  }

  render() {
    const { t } = this;
    const list = $("kb-results");
    list.replaceChildren();
    list.setAttribute("aria-busy", "false");
    if (this.results === null) {
      $("kb-status").textContent = "";
      return;
    }
    $("kb-status").textContent = this.results.length
      ? t("search_count", { count: this.results.length })
      : t("search_none", { query: this.query });
    for (const hit of this.results) list.append(this.hitItem(hit));
    this.renderInsertButtons();
  }

  hitItem(hit) {
    const { t } = this;
    const item = make("li", "kb-hit");
    const head = make("div", "kb-hit-head");
    const insert = make("button", "button small kb-insert", t("search_insert"));
    insert.type = "button";
    insert.setAttribute("aria-label", t("search_insert_label", { title: hit.title }));
    insert.addEventListener("click", () => {
      if (this.composer.insert(hit.text)) $("kb-status").textContent = t("search_inserted");
    });
    head.append(make("h3", "kb-title", hit.title), insert);
    const snippet = make("p", "kb-snippet");
    for (const piece of hit.snippet || []) {
      snippet.append(piece.hit ? make("mark", null, piece.text) : document.createTextNode(piece.text));
    }
    const more = make("details", "kb-more");
    more.append(make("summary", null, t("search_show_all")), make("p", "kb-text", hit.text));
    item.append(head, snippet, more);
    return item;
  }

  /** Say on each Insert button whether it can insert now (only into the agent's own open chat). */
  renderInsertButtons() {
    const allowed = this.composer.canInsert();
    document.querySelectorAll(".kb-insert").forEach((button) => {
      // aria-disabled rather than disabled: the button stays focusable and says why on a click.
      button.setAttribute("aria-disabled", allowed ? "false" : "true");
      button.title = allowed ? "" : this.t("search_insert_unavailable");
    });
  }
}
