/* The client dashboard: live figures over /ws/dashboard/ and the 30-day charts, drawn as inline SVG. */
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 600, HEIGHT = 200;
  const PAD = { left: 40, right: 10, top: 12, bottom: 26 };

  function element(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function titled(node, text) {
    element("title", {}, node).textContent = text;
    return node;
  }

  /* A round number at or above the largest value, so the axis reads well. */
  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    const steps = [1, 2, 2.5, 5, 10];
    for (let i = 0; i < steps.length; i += 1) if (steps[i] * power >= value) return steps[i] * power;
    return 10 * power;
  }

  function frame(svg, top, numbers, wholeNumbers) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    [0, 0.5, 1].forEach(function (fraction) {
      if (wholeNumbers && !Number.isInteger(top * fraction)) return; // no "0.5 chats"
      const y = PAD.top + plotHeight * (1 - fraction);
      element("line", { class: "grid", x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y }, svg);
      element("text", { class: "axis-label", x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, svg).textContent =
        numbers.format(top * fraction);
    });
  }

  function dayLabels(svg, days, slot) {
    days.forEach(function (day, index) {
      // Label every seventh day, counted back from today, so today always has its label.
      if ((days.length - 1 - index) % 7 !== 0) return;
      const last = index === days.length - 1;
      // Today's label ends at the right edge rather than running over it.
      const x = last ? WIDTH - PAD.right : PAD.left + slot * (index + 0.5);
      const anchor = last ? "end" : "middle";
      element("text", { class: "axis-label", x: x, y: HEIGHT - 8, "text-anchor": anchor }, svg).textContent = day.label;
    });
  }

  function drawChats(svg, days, numbers) {
    const top = niceMax(Math.max.apply(null, days.map(function (day) { return day.chats; })));
    frame(svg, top, numbers, true);
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const slot = (WIDTH - PAD.left - PAD.right) / days.length;
    days.forEach(function (day, index) {
      const height = (day.chats / top) * plotHeight;
      const bar = element("rect", {
        class: "bar" + (index === days.length - 1 ? " is-today" : ""),
        x: PAD.left + slot * index + slot * 0.15,
        y: PAD.top + plotHeight - height,
        width: slot * 0.7,
        height: Math.max(height, 0),
        "data-day": day.day,
        "data-value": day.chats,
      }, svg);
      titled(bar, day.label + ": " + numbers.format(day.chats));
    });
    dayLabels(svg, days, slot);
  }

  function drawFirstResponse(svg, days, target, numbers) {
    const values = days.map(function (day) { return day.first_response_median; });
    const known = values.filter(function (value) { return value !== null; });
    const top = niceMax(Math.max.apply(null, known.concat([target])) * 1.1);
    frame(svg, top, numbers, false);
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const slot = (WIDTH - PAD.left - PAD.right) / days.length;
    const y = function (value) { return PAD.top + plotHeight * (1 - value / top); };
    element("line", { class: "target", x1: PAD.left, x2: WIDTH - PAD.right, y1: y(target), y2: y(target) }, svg);
    // The line breaks over days without an answered chat.
    let path = "", drawing = false;
    values.forEach(function (value, index) {
      const x = PAD.left + slot * (index + 0.5);
      if (value === null) { drawing = false; return; }
      path += (drawing ? "L" : "M") + x.toFixed(1) + " " + y(value).toFixed(1) + " ";
      drawing = true;
    });
    if (path) element("path", { class: "line", d: path.trim() }, svg);
    values.forEach(function (value, index) {
      if (value === null) return;
      const point = element("circle", {
        class: "point" + (value > target ? " is-late" : ""),
        cx: PAD.left + slot * (index + 0.5),
        cy: y(value),
        r: 3,
        "data-day": days[index].day,
        "data-value": value,
      }, svg);
      titled(point, days[index].label + ": " + numbers.format(value) + " s");
    });
    dayLabels(svg, days, slot);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const live = window.chatopsLive;
    const config = live.readJson("live-config");
    const strings = live.readJson("live-strings");
    const history = live.readJson("dashboard-history");
    const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 });
    const container = document.getElementById("figures");
    const chats = document.getElementById("chart-chats");
    const firstResponse = document.getElementById("chart-first-response");

    function draw() {
      if (!history || !history.days.length) return;
      drawChats(chats, history.days, numbers);
      drawFirstResponse(firstResponse, history.days, history.first_response_target_seconds, numbers);
    }

    /* Today's bar and point follow the live figures; the other days do not change. */
    function followToday(today) {
      if (!history || !today) return;
      const last = history.days[history.days.length - 1];
      if (!last || last.day !== today.day) return; // a new day: the next page load draws it
      last.chats = today.chats;
      last.first_response_median = today.first_response_median;
      draw();
    }

    live.setServerNow(config.now);
    draw();
    live.tick(container);
    setInterval(function () { live.tick(container); }, 1000);

    const state = live.showState(document.body, strings, config.zone);
    live.connect(config.socket_path, {
      onState: state.onState,
      onFrame: function (message) {
        if (message.type !== "figures") return;
        container.innerHTML = message.html;
        state.updated();
        live.tick(container);
        followToday(message.today);
      },
    });
  });
})();
