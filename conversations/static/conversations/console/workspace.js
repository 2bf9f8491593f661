/* The panel beside the chat: the client's card (tone, goals, style, escalation rules, change notices), the
 * visitor (new or returning, the page they are on, this visit's pages, earlier chats), private notes and
 * tags. It reads /console/api/chats/<id>/… for the chat in view; every answer is checked against the chat
 * still in view before it is shown, and everything from the server reaches the page through textContent.
 * The knowledge-base search in the same panel is knowledge.js's.
 */
import { $, make, timeNode } from "./dom.js";
import { formatWhen } from "./format.js";

const VISITOR_REFRESH_MS = 30000;

function textBlock(className, text, emptyText) {
  return make("p", className + (text ? "" : " ws-muted"), text || emptyText);
}

function pageLink(page) {
  const label = page.title || page.url;
  if (!/^https?:\/\//i.test(page.url)) return make("span", "page-link", label);
  const link = make("a", "page-link", label);
  link.href = page.url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.title = page.url;
  return link;
}

export class Workspace {
  /**
   * state: the ChatState; api: the Api; notices: the ChangeNotices (their items on the card);
   * knowledge: the KnowledgeSearch; composer: the Composer; t: the translator.
   */
  constructor({ state, api, notices, knowledge, composer, t }) {
    Object.assign(this, { state, api, notices, knowledge, composer, t });
    this.chatId = null;
    this.controller = null;
    this.context = null;
    this.visitor = null;
    this.notes = null;
    this.tags = null;
    this.visitorTimer = null;
  }

  wire() {
    $("note-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveNote();
    });
    $("note-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.saveNote();
      }
    });
    $("tag-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addTagsFromInput();
    });
  }

  /** Show the panel for the chat in view (or hide it), loading everything again when the chat changed. */
  sync() {
    const chat = this.state.current();
    $("workspace").hidden = !chat;
    document.body.classList.toggle("has-workspace", !!chat);
    if (!chat) {
      if (this.chatId !== null) this.reset(null);
      return;
    }
    if (this.chatId !== chat.id) this.reset(chat.id);
    this.knowledge.renderInsertButtons();
  }

  reset(id) {
    if (this.controller) this.controller.abort();
    window.clearInterval(this.visitorTimer);
    this.chatId = id;
    this.controller = new AbortController();
    this.context = this.visitor = this.notes = this.tags = null;
    $("notes-status").textContent = "";
    $("tags-status").textContent = "";
    if (id !== null) {
      this.loadContext();
      this.loadVisitor();
      this.loadNotes();
      this.loadTags();
      this.visitorTimer = window.setInterval(() => this.loadVisitor({ quiet: true }), VISITOR_REFRESH_MS);
    }
    this.knowledge.reset();
  }

  /** What the panel knows of a chat's visitor ({name, email, phone}) and client, to prefill the close dialog. */
  knownVisitor(chatId) {
    return this.chatId === chatId && this.visitor && this.visitor.visitor ? this.visitor.visitor : {};
  }

  knownTenant(chatId) {
    return this.chatId === chatId && this.context && this.context.tenant ? this.context.tenant : null;
  }

  /** Fetch one of the chat's endpoints and apply the answer if the chat is still the one shown. */
  load(endpoint, apply, { quiet = false } = {}) {
    const id = this.chatId;
    return this.api
      .call(this.api.chat(id, endpoint), { signal: this.controller.signal })
      .then((data) => {
        if (this.chatId === id) apply(data);
      })
      .catch((error) => {
        if (this.chatId !== id || (error && error.name === "AbortError")) return;
        if (!quiet) apply({ error: { message: this.api.failureText(error) } });
      });
  }

  /** Return "Could not load: … Try again" as a <tag>, its button calling retry. */
  failure(tag, message, retry) {
    const failed = make(tag, "ws-failed", this.t("panel_failed", { message }));
    const again = make("button", "link-button", this.t("panel_retry"));
    again.type = "button";
    again.addEventListener("click", retry);
    failed.append(" ", again);
    return failed;
  }

  /** Show "loading" or the failure in a section and return false; or empty it for the answer and return true. */
  panelReady(box, data, retry) {
    box.replaceChildren();
    box.setAttribute("aria-busy", data ? "false" : "true");
    if (!data) box.append(make("p", "ws-muted", this.t("panel_loading")));
    else if (data.error) box.append(this.failure("p", data.error.message, retry));
    return !!data && !data.error;
  }

  // ------------------------------------------------ the client's card

  loadContext() {
    this.panelReady($("ws-client"), null);
    this.load("context", (data) => {
      this.context = data;
      this.renderContext();
    });
  }

  /** A notice was read: the card shows it as read. */
  noticeRead(notice) {
    if (!this.context || !this.context.notices) return;
    this.context.notices = this.context.notices.map((each) => (each.id === notice.id ? notice : each));
    this.renderContext();
  }

  renderContext() {
    const { t } = this;
    const box = $("ws-client");
    const card = this.context;
    const chat = this.state.chats.get(this.chatId);
    $("ws-client-name").textContent = card && card.tenant ? card.tenant.name : (chat && chat.data.tenant_name) || "";
    if (!this.panelReady(box, card, () => this.loadContext())) return;
    const { tenant } = card;
    const badges = make("p", "ws-badges");
    const toneKey = `tone_${tenant.tone}`;
    badges.append(make("span", `badge badge-tone tone-${tenant.tone}`, t.has(toneKey) ? t(toneKey) : tenant.tone_label));
    for (const goal of tenant.goals) badges.append(make("span", "badge badge-goal", goal.label));
    if (!tenant.goals.length) badges.append(make("span", "badge badge-muted", t("no_goals")));
    box.append(
      badges,
      make("h3", "ws-subheading", t("card_style")),
      textBlock("ws-text", tenant.style_notes, t("no_style_notes")),
      make("h3", "ws-subheading", t("card_escalation")),
      textBlock("ws-text", tenant.escalation_rules, t("no_escalation_rules")),
      make("h3", "ws-subheading", t("card_notices"))
    );
    if (!card.notices.length) {
      box.append(make("p", "ws-muted", t("notices_none")));
      return;
    }
    const list = make("ul", "card-notices");
    for (const notice of card.notices) list.append(this.notices.item(notice, "card"));
    box.append(list);
  }

  // ------------------------------------------------ the visitor

  loadVisitor(options = {}) {
    if (!options.quiet) this.panelReady($("ws-visitor"), null);
    this.load(
      "visitor",
      (data) => {
        this.visitor = data;
        this.renderVisitor();
      },
      options
    );
  }

  renderVisitor() {
    const { t } = this;
    const box = $("ws-visitor");
    const data = this.visitor;
    if (!this.panelReady(box, data, () => this.loadVisitor())) return;
    const { visitor } = data;
    const badges = make("p", "ws-badges");
    badges.append(
      make(
        "span",
        `badge ${visitor.returning ? "badge-returning" : "badge-new-visitor"}`,
        visitor.returning ? t("visitor_returning") : t("visitor_new")
      ),
      make("span", "ws-muted", t("visitor_first_seen", { time: formatWhen(visitor.first_seen_at) }))
    );
    box.append(badges);
    const contact = make("dl", "visitor-contact");
    for (const [key, value] of [
      ["visitor_name", visitor.name],
      ["visitor_email", visitor.email],
      ["visitor_phone", visitor.phone],
    ]) {
      if (value) contact.append(make("dt", null, t(key)), make("dd", null, value));
    }
    if (contact.children.length) box.append(contact);
    const now = make("p", "visitor-now");
    now.append(make("span", "ws-label", t("visitor_current_page")), " ");
    now.append(data.current_page ? pageLink(data.current_page) : make("span", "ws-muted", t("visitor_no_page")));
    box.append(now);
    if (data.visit_pages.length) {
      const pages = make("ol", "visit-pages");
      for (const page of data.visit_pages) {
        const item = make("li");
        item.append(pageLink(page), " ", timeNode(page.viewed_at));
        pages.append(item);
      }
      box.append(make("h3", "ws-subheading", t("visitor_pages")), pages);
    }
    box.append(make("h3", "ws-subheading", t("visitor_earlier")));
    if (!data.earlier.length) {
      box.append(make("p", "ws-muted", t("visitor_no_earlier")));
      return;
    }
    const earlier = make("ol", "earlier-chats");
    for (const other of data.earlier) earlier.append(this.earlierChat(other));
    box.append(earlier);
    if (data.earlier_count > data.earlier.length) {
      box.append(make("p", "ws-muted", t("visitor_more_earlier", { count: data.earlier_count - data.earlier.length })));
    }
  }

  earlierChat(other) {
    const { t } = this;
    const item = make("li", "earlier-chat");
    const head = make("p", "earlier-head");
    head.append(
      timeNode(other.started_at),
      " ",
      make("span", `badge badge-outcome outcome-${other.outcome || "open"}`, other.outcome_label || t("visitor_open_chat"))
    );
    if (other.agent_name) head.append(" ", make("span", "ws-muted", other.agent_name));
    item.append(head);
    if (other.summary) item.append(make("p", "earlier-summary", other.summary));
    if (other.tags.length) item.append(make("p", "earlier-tags ws-muted", other.tags.map((tag) => `#${tag}`).join(" ")));
    return item;
  }

  // ------------------------------------------------ private notes

  loadNotes() {
    this.load("notes", (data) => {
      this.notes = data;
      this.renderNotes();
    });
  }

  renderNotes() {
    const { t } = this;
    const list = $("notes-list");
    list.replaceChildren();
    const data = this.notes;
    if (!data) return;
    if (data.error) {
      list.append(this.failure("li", data.error.message, () => this.loadNotes()));
      return;
    }
    if (!data.notes.length) {
      list.append(make("li", "ws-muted notes-empty", t("notes_none")));
      return;
    }
    for (const note of data.notes) {
      const item = make("li", `note${note.mine ? " is-mine" : ""}`);
      const meta = make("p", "note-meta");
      meta.append(make("span", "note-author", note.agent_name), " · ", timeNode(note.created_at));
      item.append(make("p", "note-body", note.body), meta);
      list.append(item);
    }
  }

  saveNote() {
    const input = $("note-input");
    const body = input.value.trim();
    const id = this.chatId;
    if (!body || id === null) {
      input.focus();
      return;
    }
    $("note-submit").disabled = true;
    this.api
      .call(this.api.chat(id, "notes"), { method: "POST", data: { body } })
      .then((data) => {
        if (this.chatId !== id) return;
        input.value = "";
        if (this.notes && this.notes.notes) this.notes.notes.push(data.note);
        else this.notes = { notes: [data.note] };
        this.renderNotes();
        $("notes-status").textContent = this.t("note_saved");
      })
      .catch((error) => {
        const message = (error.fields && error.fields.body && error.fields.body[0]) || this.api.failureText(error);
        $("notes-status").textContent = this.t("note_failed", { message });
      })
      .then(() => {
        $("note-submit").disabled = false;
      });
  }

  // ------------------------------------------------ tags

  loadTags() {
    this.load("tags", (data) => {
      this.tags = data;
      this.renderTags();
    });
  }

  renderTags() {
    const list = $("tags-list");
    const focusedName =
      document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.tag : null;
    list.replaceChildren();
    const data = this.tags;
    if (!data) return;
    if (data.error) {
      $("tags-status").textContent = this.t("panel_failed", { message: data.error.message });
      return;
    }
    if (!data.tags.length) list.append(make("li", "ws-muted tags-empty", this.t("tags_none")));
    for (const name of data.tags) list.append(this.tagChip(name));
    const suggestions = $("tag-suggestions");
    suggestions.replaceChildren();
    for (const name of data.suggestions) {
      const option = make("option");
      option.value = name;
      suggestions.append(option);
    }
    if (focusedName !== null) (list.querySelector(".tag-remove") || $("tag-input")).focus();
  }

  tagChip(name) {
    const chip = make("li", "tag");
    const remove = make("button", "tag-remove", "×");
    remove.type = "button";
    remove.dataset.tag = name;
    remove.setAttribute("aria-label", this.t("tag_remove", { tag: name }));
    remove.addEventListener("click", () => this.saveTags(this.tags.tags.filter((tag) => tag !== name)));
    chip.append(make("span", "tag-name", name), remove);
    return chip;
  }

  saveTags(names) {
    const id = this.chatId;
    if (id === null) return;
    this.api
      .call(this.api.chat(id, "tags"), { method: "POST", data: { tags: names } })
      .then((data) => {
        if (this.chatId !== id) return;
        this.tags = data;
        $("tags-status").textContent = "";
        this.renderTags();
      })
      .catch((error) => {
        const message = (error.fields && error.fields.tags && error.fields.tags[0]) || this.api.failureText(error);
        $("tags-status").textContent = this.t("tags_failed", { message });
      });
  }

  addTagsFromInput() {
    const input = $("tag-input");
    const names = input.value
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    if (!names.length || !this.tags || !this.tags.tags) return;
    input.value = "";
    this.saveTags(this.tags.tags.concat(names));
  }
}
