/* Chat widget loader: <script src="https://BOT-HOST/widget.js" defer></script>
 * Options (data- attributes): data-title, data-accent (#rgb or #rrggbb),
 * data-position ("right" or "left"), data-greeting.
 * Adds a launcher button; the panel is an iframe from the bot's own origin.
 * Builds elements with the DOM API only: no HTML strings, no inline styles. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__acuChat) { return; }
  window.__acuChat = true;

  var origin = new URL(script.src, window.location.href).origin;
  var data = script.dataset;
  var accent = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(data.accent || "") ? data.accent : "";
  var position = data.position === "left" ? "left" : "right";
  var OPEN_KEY = "acu-chat-open";
  var frame = null;

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/widget.css";
  document.head.appendChild(css);

  var root = document.createElement("div");
  root.className = "acu-chat acu-chat-" + position;
  if (accent) { root.style.setProperty("--acu-chat-accent", accent); }

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "acu-chat-launcher";
  launcher.setAttribute("aria-label", "Open chat");
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "acu-chat-frame");
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 4h16v11H8l-4 4z");
  icon.appendChild(path);
  var label = document.createElement("span");
  label.textContent = "Ask a question";
  launcher.appendChild(icon);
  launcher.appendChild(label);
  root.appendChild(launcher);

  function frameUrl() {
    var params = new URLSearchParams();
    ["title", "greeting"].forEach(function (name) { if (data[name]) { params.set(name, data[name]); } });
    if (accent) { params.set("accent", accent); }
    return origin + "/widget/frame?" + params.toString();
  }

  function remember(open) {
    try { window.sessionStorage.setItem(OPEN_KEY, open ? "1" : "0"); } catch (e) { /* storage blocked */ }
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "acu-chat-frame";
      frame.className = "acu-chat-frame";
      frame.title = data.title || "Chat with the clinic's assistant";
      frame.src = frameUrl();
      frame.addEventListener("load", function () { send({ type: "acu-chat:focus" }); });
      root.appendChild(frame);
    } else {
      send({ type: "acu-chat:focus" });
    }
    root.classList.add("acu-chat-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    remember(true);
  }

  function close() {
    root.classList.remove("acu-chat-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    remember(false);
    launcher.focus();
  }

  function send(message) {
    if (frame && frame.contentWindow) { frame.contentWindow.postMessage(message, origin); }
  }

  launcher.addEventListener("click", function () {
    if (root.classList.contains("acu-chat-open")) { close(); } else { open(); }
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    if (event.data && event.data.type === "acu-chat:close") { close(); }
  });

  function mount() {
    document.body.appendChild(root);
    var wasOpen = false;
    try { wasOpen = window.sessionStorage.getItem(OPEN_KEY) === "1"; } catch (e) { /* storage blocked */ }
    if (wasOpen) { open(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
