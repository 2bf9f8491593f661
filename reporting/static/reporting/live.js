/* The live pages' shared part: the socket that keeps the figures fresh, and the waits that count on.
 *
 * The server sends whole frames of figures (rendered in the page's language); between frames the
 * waits ([data-wait-since]) count up every second from the server's clock, so a wait ticks even
 * when nothing changes. Without a socket the page keeps the figures it was loaded with.
 */
"use strict";

window.chatopsLive = (function () {
  const CLOSE_FORBIDDEN = 4403;
  let clockOffset = 0; // server time minus this browser's time, in ms

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function setServerNow(iso) {
    const server = Date.parse(iso);
    if (!Number.isNaN(server)) clockOffset = server - Date.now();
  }

  function clock(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const rest = String(whole % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + rest : minutes + ":" + rest;
  }

  /* Count every wait on the page on from its start; mark it (and its card or row) once past its target. */
  function tick(root) {
    const now = Date.now() + clockOffset;
    (root || document).querySelectorAll("[data-wait-since]").forEach(function (element) {
      const seconds = (now - Date.parse(element.dataset.waitSince)) / 1000;
      element.textContent = clock(seconds);
      const target = Number(element.dataset.target);
      if (!target) return;
      const late = seconds > target;
      const card = element.closest(".figure");
      if (card) card.dataset.met = late ? "no" : "yes";
      const row = element.closest("[data-wait-scope]");
      if (row) row.classList.toggle("is-late", late);
    });
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, name) { return values[name]; });
  }

  /* Keep a socket open to `path`, reconnecting with back-off; report "connecting", "live", "offline" or "ended". */
  function connect(path, handlers) {
    let delay = 1000;
    function open() {
      handlers.onState("connecting");
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + location.host + path);
      socket.addEventListener("open", function () { delay = 1000; handlers.onState("live"); });
      socket.addEventListener("message", function (event) {
        let frame;
        try { frame = JSON.parse(event.data); } catch (_error) { return; }
        if (frame.now) setServerNow(frame.now);
        handlers.onFrame(frame);
      });
      socket.addEventListener("close", function (event) {
        if (event.code === CLOSE_FORBIDDEN) { handlers.onState("ended"); return; }
        handlers.onState("offline");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  /* Show the connection state in the element #connection-text and as data-connection on `holder`. */
  /* Write the time of day as the page's language does, on the clock of `zone`, with the zone's name ("14.05 UTC+2"). */
  function clockTime(moment, zone) {
    const language = document.documentElement.lang || undefined;
    const time = new Intl.DateTimeFormat(language, { timeStyle: "short", timeZone: zone }).format(moment);
    const parts = new Intl.DateTimeFormat(language, { timeZoneName: "short", timeZone: zone }).formatToParts(moment);
    const name = parts.find(function (part) { return part.type === "timeZoneName"; });
    return name ? time + " " + name.value : time;
  }

  function showState(holder, strings, zone) {
    let updatedAt = new Date();
    return {
      updated: function () { updatedAt = new Date(); },
      onState: function (state) {
        holder.dataset.connection = state;
        const text = document.getElementById("connection-text");
        if (!text) return;
        if (state === "live") text.textContent = strings.live;
        else if (state === "ended") text.textContent = strings.ended;
        else if (state === "offline") text.textContent = format(strings.offline, { time: clockTime(updatedAt, zone) });
        else text.textContent = strings.connecting;
      },
    };
  }

  function serverNow() { return Date.now() + clockOffset; }

  return {
    readJson: readJson, setServerNow: setServerNow, serverNow: serverNow, clock: clock, tick: tick,
    format: format, connect: connect, showState: showState, clockTime: clockTime,
  };
})();
