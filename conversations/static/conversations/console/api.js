/* The console's HTTP calls: the JSON API beside the chat (/console/api/…) and the question whether the
 * agent is still signed in. Every answer that is not OK becomes an Error with the server's code, message
 * and fields, so a form can show each message beside its field.
 */

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

/** Resolve to whether the agent's session has ended (the console page itself redirects or refuses). */
export async function sessionEnded() {
  if (!window.fetch) return false;
  const response = await window.fetch(window.location.pathname, {
    method: "HEAD",
    redirect: "manual",
    cache: "no-store",
    credentials: "same-origin",
  });
  return response.type === "opaqueredirect" || response.status === 401 || response.status === 403;
}

export class Api {
  /** chatUrl: where the chats' endpoints are; unauthorized(): the server said 401; t: the translator. */
  constructor({ chatUrl, unauthorized, t }) {
    this.chatUrl = chatUrl || "/console/api/chats/";
    this.unauthorized = unauthorized;
    this.t = t;
  }

  chat(id, endpoint) {
    return `${this.chatUrl}${id}/${endpoint}/`;
  }

  /** Resolve with the JSON answer; reject with an Error carrying the server's code, message and fields. */
  async call(url, { method = "GET", data, signal } = {}) {
    const init = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (signal) init.signal = signal;
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken();
      init.body = JSON.stringify(data || {});
    }
    const response = await window.fetch(url, init);
    const answer = await response.json().catch(() => null);
    if (response.ok && answer) return answer;
    const error = (answer && answer.error) || { code: `http_${response.status}`, message: String(response.status) };
    if (response.status === 401) this.unauthorized();
    const failure = new Error(error.message || error.code);
    failure.code = error.code;
    failure.fields = error.fields || {};
    failure.status = response.status;
    throw failure;
  }

  /** Say why a call failed: the server's message, nothing for one cancelled, or that the connection is down. */
  failureText(error) {
    if (error && error.name === "AbortError") return "";
    if (error && error.status) return error.message;
    return this.t("offline_action");
  }
}
