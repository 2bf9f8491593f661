/* The two lists on the left: the agent's chats and the queue. A row per chat shows its client, language,
 * first-response timer, visitor, unread count, the last message (or "typing…"), whether it came by transfer
 * or the visitor left, and the Alt+N key that jumps to it; a waiting chat has its own Take button.
 * Rows are built once per chat and updated in place, so focus and animations survive a refresh.
 */
import { $, make } from "./dom.js";
import { formatDuration } from "./format.js";

const PREVIEW_LENGTH = 120;
const NUMBERED_ROWS = 9;

export class ChatLists {
  /** state: the ChatState; select(id): open a chat (and focus its next step); take(id): take a waiting chat. */
  constructor({ state, t, select, take }) {
    Object.assign(this, { state, t, select, take });
    this.rows = new WeakMap(); // chat → its row's elements
  }

  /** Return a chat's row, or null before it was first listed. */
  rowOf(chat) {
    const dom = this.rows.get(chat);
    return dom ? dom.row : null;
  }

  /** Return the button that opens a chat, when its row is on the page. */
  buttonOf(chat) {
    const dom = this.rows.get(chat);
    return dom && dom.row.isConnected ? dom.button : null;
  }

  build(chat) {
    const { t } = this;
    const row = make("li", "chat-row");
    row.dataset.id = String(chat.id);
    const button = make("button", "chat-item");
    button.type = "button";
    button.addEventListener("click", () => this.select(chat.id));
    const top = make("span", "ci-line");
    const tenant = make("span", "ci-tenant");
    const lang = make("span", "ci-lang");
    const clock = make("span", "ci-clock");
    top.append(tenant, lang, clock);
    const middle = make("span", "ci-line");
    const visitor = make("span", "ci-visitor");
    const handed = make("span", "ci-transfer", t("transfer_tag"));
    const left = make("span", "ci-left", t("visitor_left_tag"));
    const badge = make("span", "ci-badge");
    middle.append(visitor, left, handed, badge);
    const preview = make("span", "ci-preview");
    const key = make("span", "ci-key");
    key.setAttribute("aria-hidden", "true");
    button.append(top, middle, preview, key);
    const take = make("button", "take-inline", t("take"));
    take.type = "button";
    take.addEventListener("click", () => this.take(chat.id));
    row.append(button, take);
    const dom = { row, button, tenant, lang, clock, visitor, badge, preview, key, take, handed, left };
    this.rows.set(chat, dom);
    return dom;
  }

  preview(chat) {
    const { t, state } = this;
    if (chat.visitorTypingUntil > state.now()) return { text: t("typing_short"), typing: true };
    const last = state.lastMessage(chat);
    if (!last) return { text: (chat.data.last_seq || 0) > 0 ? "…" : t("no_preview"), typing: false };
    const prefix = last.sender === "agent" ? `${last.agent_name || ""}: ` : "";
    return { text: prefix + last.body.replace(/\s+/g, " ").slice(0, PREVIEW_LENGTH), typing: false };
  }

  /** Bring a chat's row up to date; position is its place in both lists together (for Alt+1…9). */
  update(chat, position) {
    const { t, state } = this;
    const dom = this.rows.get(chat) || this.build(chat);
    const queued = state.isQueued(chat);
    dom.row.classList.toggle("is-queued", queued);
    dom.take.hidden = !queued;
    dom.tenant.textContent = chat.data.tenant_name || "";
    dom.lang.textContent = (chat.data.tenant_language || "").toUpperCase();
    dom.visitor.textContent = `${t("visitor")} ${chat.data.visitor || ""}`;
    const left = state.visitorGone(chat);
    dom.row.classList.toggle("visitor-left", left);
    dom.left.hidden = !left;
    const handed = state.isMine(chat) ? state.transferNotes[chat.id] : null;
    dom.handed.hidden = !handed;
    dom.handed.title = handed ? t("transfer_note_by", { name: handed.by }) : "";
    const unread = state.unreadCount(chat);
    dom.badge.textContent = unread > 0 ? String(unread) : "";
    dom.badge.hidden = unread === 0;
    dom.badge.setAttribute("aria-label", t("unread", { count: unread }));
    dom.row.classList.toggle("has-unread", unread > 0);
    const preview = this.preview(chat);
    dom.preview.textContent = preview.text;
    dom.preview.classList.toggle("is-typing", preview.typing);
    dom.key.textContent = position < NUMBERED_ROWS ? `Alt+${position + 1}` : "";
    if (chat.id === state.currentId) dom.button.setAttribute("aria-current", "true");
    else dom.button.removeAttribute("aria-current");
    this.updateClock(chat);
  }

  /** Update a listed chat's row, if it has one. */
  refresh(chat) {
    if (this.rows.has(chat) && this.state.listed.has(chat.id)) this.update(chat, this.state.visibleOrder().indexOf(chat.id));
  }

  updateClock(chat) {
    const dom = this.rows.get(chat);
    if (!dom) return;
    const { t } = this;
    const frt = this.state.firstResponse(chat);
    const { clock } = dom;
    clock.className = `ci-clock level-${frt.level} state-${frt.state}`;
    const label = { running: formatDuration(frt.seconds), message: t("left_message_tag") }[frt.state];
    clock.textContent = label || "";
    clock.hidden = !label;
    if (frt.state === "running") clock.title = `${t("frt_label")} · ${t("frt_target", { time: formatDuration(frt.target) })}`;
  }

  renderList(listNode, ids, offset) {
    const rows = ids.map((id, index) => {
      const chat = this.state.ensureChat(id);
      this.update(chat, offset + index);
      return this.rowOf(chat);
    });
    // Move rows only when the order changed, so the focused button keeps its focus.
    const same = listNode.children.length === rows.length && rows.every((row, index) => listNode.children[index] === row);
    if (same) return;
    const active = document.activeElement;
    listNode.replaceChildren(...rows);
    if (active && document.contains(active) && active !== document.activeElement) active.focus();
  }

  render() {
    const { mineIds, queueIds } = this.state;
    this.renderList($("mine-list"), mineIds, 0);
    this.renderList($("queue-list"), queueIds, mineIds.length);
    $("mine-count").textContent = String(mineIds.length);
    $("queue-count").textContent = String(queueIds.length);
    $("queue-count").classList.toggle("is-busy", queueIds.length > 0);
    $("mine-empty").hidden = mineIds.length > 0;
    $("queue-empty").hidden = queueIds.length > 0;
  }
}
