/* The operations board: every live client's queue and staffing, kept fresh over /ws/operations/board/. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const live = window.chatopsLive;
  const config = live.readJson("live-config");
  const strings = live.readJson("live-strings");
  const board = document.querySelector(".live-board");
  const rows = document.getElementById("board-rows");

  live.setServerNow(config.now);
  live.tick(rows);
  setInterval(function () { live.tick(rows); }, 1000);

  const state = live.showState(board, strings);
  live.connect(config.socket_path, {
    onState: state.onState,
    onFrame: function (message) {
      if (message.type !== "board") return;
      rows.innerHTML = message.html;
      state.updated();
      live.tick(rows);
    },
  });
});
