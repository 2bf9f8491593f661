/* The connection as the agent sees it: the status in the top bar and the banner while it is down
 * (reconnecting in N s, Retry now) or when the session has ended (Sign in).
 */
import { $ } from "./dom.js";

export class ConnectionBanner {
  /** connection: a Connection; t: the translator. */
  constructor({ connection, t }) {
    this.connection = connection;
    this.t = t;
  }

  status(status) {
    const { t } = this;
    document.body.setAttribute("data-connection", status);
    const text = { connecting: t("connecting"), online: t("connected"), offline: t("reconnecting") }[status];
    $("connection-text").textContent = text || status;
    if (status === "connecting" && !$("banner").hidden) $("banner-text").textContent = t("reconnecting");
  }

  show(text, { retry = false, signIn = false } = {}) {
    $("banner-text").textContent = text;
    $("banner-retry").hidden = !retry;
    $("banner-signin").hidden = !signIn;
    $("banner").hidden = false;
  }

  hide() {
    $("banner").hidden = true;
  }

  /** Count down to the next attempt (called when one is scheduled, and every tick). */
  update() {
    const seconds = this.connection.secondsToReconnect();
    if (seconds === null) return;
    this.show(seconds > 0 ? this.t("reconnecting_in", { seconds }) : this.t("reconnecting"), { retry: true });
  }

  sessionEnded() {
    this.show(this.t("session_ended"), { signIn: true });
  }
}
