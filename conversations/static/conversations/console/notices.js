/* Change notices: what changed at the clients the agent answers for. Until every notice is read, a bar at
 * the top says how many wait (also after a reload); "Read now" lists them across all clients, and each has
 * "I have read this". The client's card beside the chat lists that client's notices with the same items.
 */
import { $, make, showDialog, timeNode } from "./dom.js";
import { formatWhen } from "./format.js";

export const NOTICES_REFRESH_MS = 60000;
const NAG_TITLES = 3;

export class ChangeNotices {
  /**
   * api: the Api; url: the notices endpoint; open: the notices the page came with; toast(text, kind);
   * acknowledged(notice): a notice was read (the client's card shows it read); closed(): the dialog closed.
   */
  constructor({ api, url, open, t, toast, acknowledged, closed }) {
    Object.assign(this, { api, url, t, toast, acknowledged, closed });
    this.open = open || [];
  }

  wire() {
    $("notice-nag-open").addEventListener("click", () => this.openDialog());
    $("notices-dialog").addEventListener("close", () => {
      if (!$("notice-nag").hidden) $("notice-nag-open").focus();
      else this.closed();
    });
  }

  /** Return a notice as a list item; where: "card" (beside the chat) or "dialog" (with the client's name). */
  item(notice, where) {
    const { t } = this;
    const item = make("li", `notice-item${notice.acknowledged ? " is-read" : " is-unread"}`);
    item.dataset.notice = String(notice.id);
    const head = make("p", "notice-head");
    if (!notice.acknowledged) head.append(make("span", "badge badge-new", t("notice_new")));
    head.append(make("strong", "notice-title", notice.title));
    const meta = make("p", "notice-meta");
    if (where === "dialog") meta.append(make("span", "notice-tenant", notice.tenant_name), " · ");
    meta.append(timeNode(notice.created_at));
    item.append(head, meta, make("p", "notice-body", notice.body));
    if (notice.acknowledged) {
      item.append(make("p", "notice-read", t("notice_acknowledged", { time: formatWhen(notice.acknowledged_at) })));
    } else {
      const button = make("button", "button small notice-ack", t("notice_acknowledge"));
      button.type = "button";
      button.addEventListener("click", () => this.acknowledge(notice.id, button));
      item.append(button);
    }
    return item;
  }

  acknowledge(noticeId, button) {
    button.disabled = true;
    this.api
      .call(`${this.url}${noticeId}/acknowledge/`, { method: "POST" })
      .then((data) => {
        this.open = this.open.filter((notice) => notice.id !== noticeId);
        this.acknowledged(data.notice);
        this.renderNag();
      })
      .catch((error) => {
        button.disabled = false;
        this.toast(this.t("notice_ack_failed", { message: this.api.failureText(error) }), "error");
      });
  }

  renderNag() {
    const count = this.open.length;
    $("notice-nag").hidden = count === 0;
    document.body.classList.toggle("has-open-notices", count > 0);
    if (count) {
      const titles = this.open.slice(0, NAG_TITLES).map((notice) => notice.title);
      $("notice-nag-text").textContent = this.t("notices_banner", {
        count,
        titles: titles.join(" · ") + (count > NAG_TITLES ? " …" : ""),
      });
    }
    if ($("notices-dialog").open) this.renderDialog();
  }

  refresh() {
    if (!this.url) return;
    this.api
      .call(this.url)
      .then((data) => {
        this.open = data.notices || [];
        this.renderNag();
      })
      .catch(() => {
        /* Keep nagging with what we know; the next refresh tries again. */
      });
  }

  openDialog() {
    this.renderDialog();
    const dialog = $("notices-dialog");
    showDialog(dialog);
    (dialog.querySelector(".notice-ack") || $("notices-close")).focus();
  }

  renderDialog() {
    const list = $("notices-list");
    const focused = document.activeElement && list.contains(document.activeElement);
    list.replaceChildren(...this.open.map((notice) => this.item(notice, "dialog")));
    $("notices-status").textContent = this.open.length ? "" : this.t("notices_dialog_empty");
    if (focused) (list.querySelector(".notice-ack") || $("notices-close")).focus();
  }
}
