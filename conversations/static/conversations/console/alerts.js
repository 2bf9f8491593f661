/* Alerts: how a new chat or message reaches an agent within a second — a sound, a counter in the tab's
 * title, a desktop notification once allowed, and a flash of the chat's row — and the two buttons in the
 * top bar that turn the sound and the notifications on.
 */
import { $ } from "./dom.js";

const BEEP_MIN_GAP_MS = 900;
const PREVIEW_LENGTH = 160;
// The first message of a new chat can come before the state that names its tenant; give that a moment.
const NAMELESS_NOTIFY_DELAY_MS = 400;

export class Alerts {
  /** state: the ChatState; keeper: saved settings; rowOf(chat): its list row or null; openChat(id): show a chat. */
  constructor({ state, t, keeper, rowOf, openChat }) {
    Object.assign(this, { state, t, keeper, rowOf, openChat });
    this.soundOn = keeper.load("sound", true) !== false;
    this.audioContext = null;
    this.lastBeepAt = 0;
    this.baseTitle = document.title;
  }

  // ------------------------------------------------ sound

  /** Browsers start audio only after a gesture; any click or key press on the console prepares it. */
  unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!this.audioContext) {
      try {
        this.audioContext = new Context();
      } catch {
        return;
      }
    }
    if (this.audioContext.state === "suspended") this.audioContext.resume().catch(() => {});
  }

  tone(frequency, startsAt, duration) {
    const audio = this.audioContext;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, startsAt);
    gain.gain.exponentialRampToValueAtTime(0.18, startsAt + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, startsAt + duration);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(startsAt);
    oscillator.stop(startsAt + duration + 0.02);
  }

  beep() {
    if (!this.soundOn || Date.now() - this.lastBeepAt < BEEP_MIN_GAP_MS) return;
    this.lastBeepAt = Date.now();
    this.unlockAudio();
    if (!this.audioContext) return;
    try {
      const now = this.audioContext.currentTime;
      // Two soft rising tones: noticeable without being shrill over an 8-hour shift.
      this.tone(660, now, 0.14);
      this.tone(880, now + 0.16, 0.18);
    } catch {
      /* An audio device can disappear; the title and notifications still alert. */
    }
  }

  toggleSound() {
    this.soundOn = !this.soundOn;
    this.keeper.store("sound", this.soundOn);
    this.renderSoundButton();
    if (this.soundOn) {
      this.lastBeepAt = 0;
      this.beep();
    }
  }

  renderSoundButton() {
    const button = $("sound-toggle");
    button.textContent = this.soundOn ? this.t("sound_on") : this.t("sound_off");
    button.setAttribute("aria-pressed", this.soundOn ? "true" : "false");
  }

  // ------------------------------------------------ desktop notifications

  notify(title, body, chatId) {
    if (!("Notification" in window) || window.Notification.permission !== "granted") return;
    try {
      const notification = new window.Notification(title, { body, tag: `chatops-${chatId}`, silent: true });
      notification.onclick = () => {
        window.focus();
        this.openChat(chatId);
        notification.close();
      };
    } catch {
      /* Some browsers only allow notifications from a service worker. */
    }
  }

  askPermission() {
    if (!("Notification" in window)) return;
    const render = () => this.renderNotifyButton();
    const asked = window.Notification.requestPermission(render);
    if (asked && typeof asked.then === "function") asked.then(render);
  }

  renderNotifyButton() {
    const button = $("notify-button");
    if (!("Notification" in window)) {
      button.hidden = true;
      return;
    }
    const { permission } = window.Notification;
    button.hidden = false;
    button.disabled = permission !== "default";
    const label = { granted: "notifications_on", denied: "notifications_blocked" }[permission] || "notifications_enable";
    button.textContent = this.t(label);
    button.classList.toggle("is-on", permission === "granted");
  }

  // ------------------------------------------------ what alerts

  newChat(chat) {
    if (!chat) return;
    const { t } = this;
    this.beep();
    const title = t("new_chat", { tenant: chat.data.tenant_name || "" });
    const handed = this.state.transferNotes[chat.id];
    let body = `${t("visitor")} ${chat.data.visitor || ""}`;
    if (handed) {
      body = handed.note
        ? t("transfer_notification", { name: handed.by, note: handed.note.slice(0, PREVIEW_LENGTH) })
        : t("transfer_note_by", { name: handed.by });
    }
    this.notify(title, body, chat.id);
    this.flash(chat);
  }

  newMessage(chat, message) {
    this.beep();
    this.flash(chat);
    window.setTimeout(
      () => {
        const title = this.t("new_message", { tenant: chat.data.tenant_name || "" });
        this.notify(title, (message.body || "").slice(0, PREVIEW_LENGTH), chat.id);
      },
      chat.data.tenant_name ? 0 : NAMELESS_NOTIFY_DELAY_MS
    );
  }

  flash(chat) {
    const row = this.rowOf(chat);
    if (!row) return;
    row.classList.remove("is-new");
    void row.offsetWidth; // restart the animation
    row.classList.add("is-new");
  }

  /** Put the number of unread messages in the tab's title: "(3) Console — chatops". */
  renderTitle() {
    const total = this.state.totalUnread();
    document.title = total > 0 ? this.t("title_counter", { count: total, title: this.baseTitle }) : this.baseTitle;
  }
}
