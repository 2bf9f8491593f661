/* The operations board: every live client's queue and staffing, kept fresh over /ws/operations/board/. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const live = window.chatopsLive;
  const config = live.readJson("live-config");
  const strings = live.readJson("live-strings");
  const board = document.querySelector(".live-board");
  const rows = document.getElementById("board-rows");
  const health = document.getElementById("board-health");

  /* Count the clock's "last ran … ago" on every second; past its limit, the clock has stopped: mark it. */
  function tickClock() {
    const clock = health && health.querySelector("[data-ran-at]");
    if (!clock) return;
    const seconds = Math.max(0, Math.floor((live.serverNow() - Date.parse(clock.dataset.ranAt)) / 1000));
    const ago = clock.querySelector("[data-ago]");
    if (ago) {
      ago.textContent = seconds < strings.minutes_from_seconds
        ? live.format(strings.seconds_ago, { count: seconds })
        : live.format(strings.minutes_ago, { count: Math.floor(seconds / 60) });
    }
    const late = seconds > Number(clock.dataset.lateAfter);
    clock.classList.toggle("is-late", late);
    const flag = clock.querySelector("[data-late-flag]");
    if (flag) flag.hidden = !late;
  }

  live.setServerNow(config.now);
  live.tick(rows);
  tickClock();
  setInterval(function () { live.tick(rows); tickClock(); }, 1000);

  const state = live.showState(board, strings, config.zone);
  live.connect(config.socket_path, {
    onState: state.onState,
    onFrame: function (message) {
      if (message.type !== "board") return;
      rows.innerHTML = message.html;
      if (health && message.health_html) health.innerHTML = message.health_html;
      state.updated();
      live.tick(rows);
      tickClock();
    },
  });
});
