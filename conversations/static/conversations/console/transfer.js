/* Transfer to a colleague: the dialog lists the colleagues who can take the chat now (with their load),
 * takes a note, and waits for the server; a refusal shows who can, now. The other side of a transfer is
 * here too: the note that came with a chat handed to this agent, and the toast when a chat of theirs went.
 */
import { $, make, showDialog } from "./dom.js";

export class TransferDialog {
  /**
   * state: the ChatState; send(frame, meta): the connection's; toast(text, kind); refresh(): ask for the
   * whole state; leaveChat(): open the next chat in place of one that went; forgetDraft(id): the chat's
   * unsent text; stopTyping(); focusComposer().
   */
  constructor({ state, send, t, toast, refresh, leaveChat, forgetDraft, stopTyping, focusComposer }) {
    Object.assign(this, { state, send, t, toast, refresh, leaveChat, forgetDraft, stopTyping, focusComposer });
    this.chatId = null;
    this.colleagues = null; // null while the list is being asked for
    this.pending = null; // {conversation, name} while the server has not answered
    this.handedOn = new Set(); // chats this console handed on, so their "withdrawn" frame says nothing more
  }

  dialog() {
    return $("transfer-dialog");
  }

  isOpen() {
    return this.dialog().open;
  }

  wire() {
    $("transfer-button").addEventListener("click", () => this.open());
    $("transfer-cancel").addEventListener("click", () => this.dialog().close());
    $("transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirm();
    });
    $("transfer-colleagues").addEventListener("change", () => {
      this.showError("");
      this.renderActions();
    });
    this.dialog().addEventListener("close", () => {
      const chat = this.state.current();
      if (chat && this.state.isMine(chat) && !chat.gone && !this.pending) this.focusComposer();
    });
  }

  /** Say "N chats" in the language's own plural form (the template writes them for 0…9). */
  loadLabel(count) {
    const forms = this.t.raw("transfer_load");
    return Array.isArray(forms) && typeof forms[count] === "string" ? forms[count] : String(count);
  }

  open() {
    const chat = this.state.current();
    if (!chat || !this.state.isMine(chat) || chat.gone) return;
    this.chatId = chat.id;
    this.colleagues = null;
    this.pending = null;
    $("transfer-note-input").value = "";
    this.showError("");
    this.renderColleagues();
    showDialog(this.dialog());
    // The heading takes focus until the list arrives; then the first colleague does.
    $("transfer-dialog-title").focus();
    // Offline, the list stays "looking" and is asked for again as soon as the connection is back.
    if (!this.askColleagues()) this.showError(this.t("offline_action"));
  }

  askColleagues() {
    return this.send({ type: "colleagues", conversation: this.chatId }, { conversation: this.chatId });
  }

  /** A new connection: a dialog left open asks again, the list it shows may be out of date. */
  reconnected() {
    if (!this.isOpen() || this.pending) return;
    if ($("transfer-error").textContent === this.t("offline_action")) this.showError("");
    this.askColleagues();
  }

  /** The chat being transferred left this agent some other way (closed, returned to the queue, another tab). */
  closeIfGone() {
    if (this.isOpen() && !this.pending && !this.state.mineIds.includes(this.chatId)) this.dialog().close();
  }

  onColleagues(frame) {
    if (!this.isOpen() || frame.conversation !== this.chatId) return;
    this.colleagues = (frame.agents || []).filter((colleague) => colleague.id !== this.state.agent.id);
    this.renderColleagues();
    const active = document.activeElement;
    if (active === $("transfer-dialog-title") || active === document.body || active === this.dialog()) {
      const box = $("transfer-colleagues");
      (box.querySelector("input:checked") || box.querySelector("input") || $("transfer-cancel")).focus();
    }
  }

  renderColleagues() {
    const box = $("transfer-colleagues");
    const status = $("transfer-status");
    const list = this.colleagues;
    const checked = box.querySelector("input:checked");
    const keep = checked ? Number(checked.value) : null;
    box.replaceChildren();
    status.classList.toggle("is-empty", list !== null && !list.length);
    if (list === null || !list.length) {
      status.textContent = list === null ? this.t("transfer_loading") : this.t("transfer_empty");
      status.hidden = false;
    } else {
      status.textContent = "";
      status.hidden = true;
      for (const colleague of list) {
        const label = make("label", "colleague");
        const input = make("input");
        input.type = "radio";
        input.name = "colleague";
        input.value = String(colleague.id);
        input.checked = colleague.id === keep;
        label.append(
          input,
          make("span", "colleague-name", colleague.name),
          make("span", "colleague-load", this.loadLabel(colleague.load))
        );
        box.append(label);
      }
    }
    box.setAttribute("aria-busy", list === null ? "true" : "false");
    this.renderActions();
  }

  selectedColleague() {
    const checked = $("transfer-colleagues").querySelector("input:checked");
    if (!checked || !this.colleagues) return null;
    const id = Number(checked.value);
    return this.colleagues.find((colleague) => colleague.id === id) || null;
  }

  renderActions() {
    const pending = !!this.pending;
    const button = $("transfer-confirm");
    // Enabled without a choice on purpose: pressing it then says what is missing, which a greyed-out button cannot.
    button.disabled = pending || !this.colleagues || !this.colleagues.length;
    button.textContent = pending ? this.t("transfer_pending") : this.t("transfer_confirm");
    $("transfer-colleagues")
      .querySelectorAll("input")
      .forEach((input) => {
        input.disabled = pending;
      });
    $("transfer-note-input").readOnly = pending;
    this.dialog().classList.toggle("is-pending", pending);
  }

  showError(text) {
    $("transfer-error").textContent = text;
    $("transfer-error").hidden = !text;
  }

  confirm() {
    if (this.pending) return;
    const colleague = this.selectedColleague();
    if (!colleague) {
      this.showError(this.t("transfer_choose"));
      const first = $("transfer-colleagues").querySelector("input");
      if (first) first.focus();
      return;
    }
    const id = this.chatId;
    const note = $("transfer-note-input").value.trim();
    const frame = { type: "transfer", conversation: id, to_agent: colleague.id, note };
    if (!this.send(frame, { conversation: id, name: colleague.name })) {
      this.showError(this.t("offline_action"));
      return;
    }
    this.pending = { conversation: id, name: colleague.name };
    this.showError("");
    this.stopTyping();
    // Keep focus inside the dialog while its controls are disabled.
    $("transfer-dialog-title").focus();
    this.renderActions();
  }

  /** The server moved the chat to the colleague (request: the transfer frame it answers). */
  transferred(id, request) {
    this.pending = null;
    this.handedOn.add(id);
    this.forgetDraft(id);
    if (this.isOpen() && this.chatId === id) this.dialog().close();
    this.renderActions();
    this.toast(this.t("transfer_done", { name: (request && request.name) || "" }));
    if (this.state.currentId === id) this.leaveChat();
  }

  /** The server refused a transfer, or the list of colleagues (request: the frame it answers, if known). */
  refused(frame, request) {
    const isTransfer = (request && request.type === "transfer") || frame.ref === "transfer";
    if (isTransfer) this.pending = null;
    const key = `error_transfer_${frame.code}`;
    const text = this.t.has(key)
      ? this.t(key, { name: (request && request.name) || "" })
      : this.t("error_default", { message: frame.message || frame.code });
    if (!this.isOpen()) {
      this.toast(text, "error");
      return;
    }
    this.showError(text);
    if (!isTransfer) {
      this.colleagues = [];
      this.renderColleagues();
    } else if (frame.code === "transfer_refused") {
      // Whoever was chosen is no longer free: show who is, now.
      this.colleagues = null;
      this.renderColleagues();
      this.askColleagues();
    } else {
      this.renderActions();
      this.refresh();
    }
  }

  connectionLost() {
    if (this.pending) {
      this.pending = null;
      if (this.isOpen()) {
        this.showError(this.t("transfer_connection_lost"));
        this.renderActions();
      } else {
        this.toast(this.t("transfer_connection_lost"), "error");
      }
    } else if (this.isOpen() && this.colleagues === null) {
      this.showError(this.t("offline_action"));
    }
  }

  /** A chat of this agent's went to someone else (or back to the queue). */
  withdrawn(frame) {
    const toColleague = frame.agent && frame.agent !== this.state.agent.id;
    if (!toColleague) {
      this.toast(this.t("withdrawn_toast"));
      return;
    }
    const own = this.handedOn.has(frame.conversation) || (this.pending && this.pending.conversation === frame.conversation);
    if (!own) this.toast(this.t("transfer_away", { name: frame.agent_name || "" }));
  }

  /** A chat was assigned to this agent, perhaps by a colleague's transfer with a note. */
  assigned(frame) {
    if (frame.transferred_by === undefined || frame.agent !== this.state.agent.id) return;
    this.handedOn.delete(frame.conversation); // it came back: a later transfer of it is news again
    this.state.noteTransfer(frame);
  }
}
