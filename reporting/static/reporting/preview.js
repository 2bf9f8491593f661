/* The report preview in the admin: the e-mail's frame grows to the e-mail's height, so the page scrolls
   once instead of a fixed frame scrolling inside it. The frame runs no scripts (sandbox without
   allow-scripts); allow-same-origin only lets this page measure it. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const frame = document.getElementById("report-html");
  if (!frame) return;

  function fit() {
    const inner = frame.contentDocument;
    if (!inner || !inner.documentElement) return;
    frame.style.height = "0px"; // measured at its least, so that a wider window lets it shrink again
    frame.style.height = inner.documentElement.scrollHeight + "px";
  }

  function fitWhenLoaded() {
    fit();
    frame.contentDocument.querySelectorAll("img").forEach(function (image) {
      if (!image.complete) image.addEventListener("load", fit);
    });
  }

  frame.addEventListener("load", fitWhenLoaded);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") fitWhenLoaded();
  window.addEventListener("resize", fit);
});
