/* Closing a chat: the dialog asks for the outcome (none chosen in advance) and for what that outcome needs —
 * for a lead who to contact and what they want, for an escalation the client's handoff report (summary, the
 * visitor's contact, what was promised and by when, in the client's time). The same rules as the server's
 * answer at once; what the server refuses is shown beside its field, and the dialog stays open.
 */
import { $, make, showDialog } from "./dom.js";
import { errorText, localDate } from "./format.js";

// The fields of each outcome's part of the close frame (their ids are close-<group>-<field>).
const CLOSE_GROUPS = {
  lead: ["name", "email", "phone", "wants"],
  handoff: ["visitor_name", "visitor_email", "visitor_phone", "promise", "promised_by"],
};

function valueOf(id) {
  return $(id).value.trim();
}

/** Return the id of the field a server error key names ("lead.email" → close-lead-email), or null. */
function closeFieldId(key) {
  if (key === "outcome") return "close-outcome";
  if (key === "summary" || key === "handoff.summary") return "close-summary";
  const [group, field, ...rest] = key.split(".");
  if (!rest.length && field && CLOSE_GROUPS[group] && CLOSE_GROUPS[group].includes(field)) return `close-${group}-${field}`;
  return null;
}

export class CloseDialog {
  /**
   * state: the ChatState; send(frame, meta): the connection's; workspace: what the panel knows of the visitor
   * and client; toast(text, kind); stopTyping(); focusComposer().
   */
  constructor({ state, send, workspace, t, toast, stopTyping, focusComposer }) {
    Object.assign(this, { state, send, workspace, t, toast, stopTyping, focusComposer });
    this.chatId = null;
    this.pending = null; // {conversation} while the server has not answered
  }

  dialog() {
    return $("close-dialog");
  }

  isOpen() {
    return this.dialog().open;
  }

  wire() {
    $("close-button").addEventListener("click", () => this.open());
    $("close-cancel").addEventListener("click", () => this.dialog().close());
    $("close-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirm();
    });
    this.dialog().addEventListener("close", () => {
      const chat = this.state.current();
      if (chat && !chat.closing) this.focusComposer();
    });
    $("close-outcome").addEventListener("change", () => {
      this.renderOutcome();
      const note = $("close-outcome-error");
      if (!note.hidden && $("close-outcome").value) {
        note.hidden = true;
        $("close-outcome").removeAttribute("aria-invalid");
      }
    });
  }

  open() {
    const { t, state } = this;
    const chat = state.current();
    if (!chat || !state.isMine(chat) || chat.gone) return;
    this.chatId = chat.id;
    this.pending = null;
    $("close-form").reset();
    this.clearErrors();
    // What the panel knows of the visitor saves typing; the agent can change it.
    const visitor = this.workspace.knownVisitor(chat.id);
    $("close-lead-name").value = $("close-handoff-visitor_name").value = visitor.name || "";
    $("close-lead-email").value = $("close-handoff-visitor_email").value = visitor.email || "";
    $("close-lead-phone").value = $("close-handoff-visitor_phone").value = visitor.phone || "";
    const tenant = this.workspace.knownTenant(chat.id);
    $("close-escalation-rules").hidden = !(tenant && tenant.escalation_rules);
    $("close-escalation-rules-text").textContent = tenant ? tenant.escalation_rules : "";
    $("close-handoff-zone").textContent = tenant ? t("close_zone", { zone: tenant.time_zone }) : "";
    $("close-handoff-promised_by").min = localDate(new Date());
    this.renderOutcome();
    this.renderActions();
    showDialog(this.dialog());
    $("close-outcome").focus();
  }

  /** The chat being closed left this agent some other way (closed elsewhere, transferred, requeued). */
  closeIfGone() {
    if (this.isOpen() && !this.pending && !this.state.mineIds.includes(this.chatId)) this.dialog().close();
  }

  renderOutcome() {
    const outcome = $("close-outcome").value;
    $("close-lead").hidden = outcome !== "lead";
    $("close-handoff").hidden = outcome !== "escalated";
    const label = $("close-summary-label");
    const escalated = outcome === "escalated";
    label.textContent = escalated ? `${this.t("close_summary_escalated")} ` : this.t("close_summary_label");
    if (escalated) {
      const star = make("span", "required", "*");
      star.setAttribute("aria-hidden", "true");
      label.append(star);
    }
    $("close-summary").required = escalated;
  }

  renderActions() {
    const pending = !!this.pending;
    const button = $("close-confirm");
    button.disabled = pending;
    button.textContent = pending ? this.t("close_pending") : this.t("close_confirm");
    this.dialog().classList.toggle("is-pending", pending);
  }

  frame() {
    const outcome = $("close-outcome").value;
    const frame = { type: "close", conversation: this.chatId, outcome, summary: valueOf("close-summary") };
    if (outcome === "lead") {
      frame.lead = {
        name: valueOf("close-lead-name"),
        email: valueOf("close-lead-email"),
        phone: valueOf("close-lead-phone"),
        wants: valueOf("close-lead-wants"),
      };
    }
    if (outcome === "escalated") {
      const date = valueOf("close-handoff-promised_by");
      const time = valueOf("close-handoff-promised_time");
      frame.handoff = {
        summary: frame.summary,
        visitor_name: valueOf("close-handoff-visitor_name"),
        visitor_email: valueOf("close-handoff-visitor_email"),
        visitor_phone: valueOf("close-handoff-visitor_phone"),
        promise: valueOf("close-handoff-promise"),
        promised_by: date && time ? `${date}T${time}` : date,
      };
    }
    return frame;
  }

  /** Check the frame as the server would, to answer at once; the server has the last word. */
  check(frame) {
    const { t } = this;
    const errors = {};
    if (!frame.outcome) errors.outcome = t("close_choose_outcome");
    const { lead, handoff } = frame;
    if (lead) {
      if (!lead.wants) errors["lead.wants"] = t("close_required");
      if (lead.email && !$("close-lead-email").checkValidity()) errors["lead.email"] = t("close_email_invalid");
      else if (!lead.email && !lead.phone) errors["lead.email"] = t("close_contact_required");
    }
    if (handoff) {
      if (!handoff.summary) errors["handoff.summary"] = t("close_required");
      if (handoff.visitor_email && !$("close-handoff-visitor_email").checkValidity()) {
        errors["handoff.visitor_email"] = t("close_email_invalid");
      } else if (!handoff.visitor_email && !handoff.visitor_phone) {
        errors["handoff.visitor_email"] = t("close_contact_required");
      }
      if (!handoff.promise) errors["handoff.promise"] = t("close_required");
      if (!handoff.promised_by) errors["handoff.promised_by"] = t("close_date_required");
    }
    return errors;
  }

  clearErrors() {
    $("close-error").hidden = true;
    $("close-error").textContent = "";
    const form = $("close-form");
    form.querySelectorAll(".field-error").forEach((node) => {
      node.hidden = true;
      node.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  }

  /** Show each message beside its field ("lead.email" → the lead's e-mail box); the rest above the form. */
  showErrors(errors, general) {
    this.clearErrors();
    let first = null;
    const elsewhere = [];
    for (const [key, value] of Object.entries(errors)) {
      const text = [].concat(value).join(" ");
      const id = closeFieldId(key);
      const note = id ? $(`${id}-error`) : null;
      if (!note) {
        elsewhere.push(text);
        continue;
      }
      note.textContent = note.textContent ? `${note.textContent} ${text}` : text;
      note.hidden = false;
      $(id).setAttribute("aria-invalid", "true");
      if (!first || $(id).compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) first = $(id);
    }
    const summary = [general].concat(elsewhere).filter(Boolean).join(" ");
    $("close-error").textContent = summary;
    $("close-error").hidden = !summary;
    (first || $("close-dialog-title")).focus();
  }

  confirm() {
    if (this.pending) return;
    const chat = this.state.chats.get(this.chatId);
    if (!chat || !this.state.isMine(chat) || chat.gone) {
      this.dialog().close();
      return;
    }
    const frame = this.frame();
    const errors = this.check(frame);
    if (Object.keys(errors).length) {
      this.showErrors(errors, "");
      return;
    }
    if (!this.send(frame, { conversation: chat.id })) {
      this.showErrors({}, this.t("offline_action"));
      return;
    }
    this.pending = { conversation: chat.id };
    chat.closing = true;
    this.clearErrors();
    this.stopTyping();
    this.renderActions();
  }

  /** The server closed the chat this dialog asked to close. */
  closed(id) {
    if (!this.pending || this.pending.conversation !== id) return;
    this.pending = null;
    this.renderActions();
    if (this.isOpen()) this.dialog().close();
  }

  /** The server refused to close (request: the close frame it answers, if known). */
  refused(frame, request) {
    const id = (request && request.conversation) || (this.pending && this.pending.conversation);
    const chat = this.state.chats.get(id);
    if (chat) chat.closing = false;
    this.pending = null;
    this.renderActions();
    if (!this.isOpen() || this.chatId !== id) {
      this.toast(errorText(this.t, frame), "error");
      return;
    }
    const fields = { ...frame.fields };
    if (frame.code === "outcome_required" && !Object.keys(fields).length) fields.outcome = frame.message;
    const placed = Object.keys(fields).some((key) => closeFieldId(key) !== null);
    this.showErrors(fields, placed ? this.t("close_failed") : errorText(this.t, frame));
  }

  connectionLost() {
    if (!this.pending) return;
    const chat = this.state.chats.get(this.pending.conversation);
    if (chat) chat.closing = false;
    this.pending = null;
    this.renderActions();
    if (this.isOpen()) this.showErrors({}, this.t("close_connection_lost"));
    else this.toast(this.t("close_connection_lost"), "error");
  }
}
