/* The chat panel inside the iframe. All text is set with textContent; links
 * are only http(s); the conversation lives in sessionStorage. */
(function () {
  "use strict";
  var STORE = "acu-chat-v1";
  var TIMEOUT_MS = 15000;
  var body = document.body;
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var status = document.getElementById("status");
  var starters = [];
  try { starters = JSON.parse(body.dataset.starters || "[]"); } catch (e) { starters = []; }
  if (body.dataset.accent) { document.documentElement.style.setProperty("--accent", body.dataset.accent); }

  var state = load();
  var busy = false;

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE));
      if (saved && Array.isArray(saved.messages)) { return saved; }
    } catch (e) { /* nothing saved, or storage blocked */ }
    return { sessionId: newId(), messages: [] };
  }

  function save() {
    try { window.sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  function sourceLine(source) {
    var line = el("p", "source");
    line.appendChild(document.createTextNode("Source: "));
    var url = source.url && safeUrl(source.url);
    var title = url ? el("a", null, source.title) : el("cite", null, source.title);
    if (url) { title.href = url; title.target = "_blank"; title.rel = "noopener noreferrer"; }
    line.appendChild(title);
    if (source.publisher) { line.appendChild(document.createTextNode(", " + source.publisher)); }
    if (source.section) { line.appendChild(document.createTextNode(" (" + source.section + ")")); }
    return line;
  }

  function passageText(passage) {
    var text = el("p", "passage");
    var at = passage.highlight ? passage.text.indexOf(passage.highlight) : -1;
    if (at < 0) { text.textContent = passage.text; return text; }
    text.appendChild(document.createTextNode(passage.text.slice(0, at)));
    text.appendChild(el("mark", null, passage.highlight));
    text.appendChild(document.createTextNode(passage.text.slice(at + passage.highlight.length)));
    return text;
  }

  function chips(questions) {
    var list = el("div", "chips");
    questions.forEach(function (question) {
      var chip = el("button", "chip", question);
      chip.type = "button";
      chip.addEventListener("click", function () { ask(question); });
      list.appendChild(chip);
    });
    return list;
  }

  function feedback(message) {
    var box = el("div", "feedback");
    if (message.feedback === "down" && message.comment === "open") { return commentBox(message); }
    if (message.feedback) {
      box.appendChild(el("p", "thanks", "Thank you for your feedback."));
      return box;
    }
    box.appendChild(el("span", null, "Was this helpful?"));
    [[true, "Yes", "Yes, helpful"], [false, "No", "No, not helpful"]].forEach(function (choice) {
      var button = el("button", "thumb", choice[1]);
      button.type = "button";
      button.setAttribute("aria-label", choice[2]);
      button.addEventListener("click", function () { sendFeedback(message, choice[0]); });
      box.appendChild(button);
    });
    return box;
  }

  // After "No": one optional line on what was missing, sent as a second verdict with the comment
  // (the "No" itself is already stored, so skipping or leaving loses nothing).
  function commentBox(message) {
    var box = el("form", "feedback comment");
    var id = "comment-" + message.messageId;
    var label = el("label", null, "What were you looking for? (optional)");
    label.htmlFor = id;
    var line = el("input");
    line.id = id;
    line.type = "text";
    line.maxLength = parseInt(body.dataset.commentMax, 10) || 1000;
    line.autocomplete = "off";
    line.value = message.draft || "";
    line.addEventListener("input", function () { message.draft = line.value; save(); });
    var send = el("button", "thumb", "Send");
    send.type = "submit";
    send.setAttribute("aria-label", "Send comment");
    var skip = el("button", "thumb", "Skip");
    skip.type = "button";
    skip.setAttribute("aria-label", "Skip comment");
    box.addEventListener("submit", function (event) { event.preventDefault(); finishComment(message, line.value); });
    skip.addEventListener("click", function () { finishComment(message, ""); });
    [label, line, send, skip].forEach(function (node) { box.appendChild(node); });
    return box;
  }

  function finishComment(message, text) {
    text = text.trim();
    message.comment = text ? "sent" : "skipped";
    delete message.draft;
    save();
    render();
    input.focus();
    status.textContent = text ? "Thank you, your comment was sent." : "Thank you for your feedback.";
    if (text) { postFeedback(message, false, text); }
  }

  function botBubble(message) {
    var bubble = el("div", "msg bot " + message.kind);
    var reply = message.reply || "";
    if (message.kind === "answer" && message.passages.length) {
      var best = message.passages[0];
      bubble.appendChild(passageText(best));
      bubble.appendChild(sourceLine(best.source));
      if (message.passages.length > 1) {
        var more = el("details", "more");
        more.appendChild(el("summary", null, "More from the sources"));
        message.passages.slice(1).forEach(function (passage) {
          more.appendChild(passageText(passage));
          more.appendChild(sourceLine(passage.source));
        });
        bubble.appendChild(more);
      }
      bubble.appendChild(el("p", "disclaimer", reply.split("\n\n").slice(-1)[0]));
    } else {
      if (message.kind === "urgent") { bubble.setAttribute("role", "alert"); }
      reply.split("\n\n").forEach(function (paragraph) { bubble.appendChild(el("p", null, paragraph)); });
      if (message.kind === "no_answer" && message.passages.length) {
        var help = el("div", "may-help");
        help.appendChild(el("p", "may-help-title", "These may help:"));
        message.passages.forEach(function (passage) {
          help.appendChild(passageText(passage));
          help.appendChild(sourceLine(passage.source));
        });
        bubble.appendChild(help);
      }
    }
    if (message.suggestions && message.suggestions.length) {
      bubble.appendChild(el("p", "did-you-mean", "Did you mean:"));
      bubble.appendChild(chips(message.suggestions));
    }
    if (message.messageId && (message.kind === "answer" || message.kind === "no_answer")) {
      bubble.appendChild(feedback(message));
    }
    return bubble;
  }

  function render() {
    log.textContent = "";
    var greeting = el("div", "msg bot greeting");
    greeting.appendChild(el("p", null, body.dataset.greeting || "Hello! How can I help?"));
    if (!state.messages.length && starters.length) { greeting.appendChild(chips(starters)); }
    log.appendChild(greeting);
    state.messages.forEach(function (message) {
      if (message.role === "user") {
        log.appendChild(el("div", "msg user", message.text));
      } else if (message.role === "error") {
        var box = el("div", "msg bot error");
        box.appendChild(el("p", null, message.text));
        var retry = el("button", "chip", "Try again");
        retry.type = "button";
        retry.addEventListener("click", function () { retryLast(message); });
        box.appendChild(retry);
        log.appendChild(box);
      } else {
        log.appendChild(botBubble(message));
      }
    });
    if (busy) {
      var typing = el("div", "msg bot typing");
      typing.setAttribute("aria-label", "The assistant is typing");
      for (var i = 0; i < 3; i += 1) { typing.appendChild(el("span", "dot")); }
      log.appendChild(typing);
    }
    // Show the start of the newest reply (long answers read from the top).
    var last = log.lastElementChild;
    if (last && last.classList.contains("bot") && state.messages.length) {
      log.scrollTop = Math.max(0, last.offsetTop - log.offsetTop - 8);
    } else {
      log.scrollTop = log.scrollHeight;
    }
  }

  function post(path, payload) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    return window.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      signal: controller.signal,
      credentials: "same-origin"
    }).finally(function () { window.clearTimeout(timer); });
  }

  function failure(response) {
    if (response && response.status === 429) {
      var wait = parseInt(response.headers.get("Retry-After") || "", 10);
      return "Lots of questions at once. Please wait " + (wait > 0 ? wait + " seconds" : "a moment") +
        " and try again.";
    }
    if (response && response.status >= 400 && response.status < 500) {
      return "Sorry, I could not read that question. Please rephrase it.";
    }
    return "Sorry, I could not reach the assistant. Please check your connection and try again.";
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text || busy) { return; }
    state.messages = state.messages.filter(function (m) { return m.role !== "error"; });
    state.messages.push({ role: "user", text: text });
    busy = true;
    sendButton.disabled = true;
    status.textContent = "Sending…";
    save();
    render();
    post("/api/chat", { message: text, session_id: state.sessionId }).then(function (response) {
      if (!response.ok) { throw response; }
      return response.json();
    }).then(function (reply) {
      state.messages.push({
        role: "bot", kind: reply.kind, reply: reply.reply, passages: reply.passages || [],
        suggestions: reply.suggestions || [], messageId: reply.message_id, feedback: null
      });
      status.textContent = "";
    }).catch(function (problem) {
      var text = failure(problem instanceof Response ? problem : null);
      state.messages.push({ role: "error", text: text, retry: true });
      status.textContent = text;
    }).finally(function () {
      busy = false;
      sendButton.disabled = false;
      save();
      render();
    });
  }

  function retryLast(errorMessage) {
    var index = state.messages.indexOf(errorMessage);
    var question = index > 0 ? state.messages[index - 1] : null;
    state.messages.splice(Math.max(index - 1, 0), question ? 2 : 1);
    if (question && question.role === "user") { ask(question.text); } else { render(); }
  }

  function sendFeedback(message, helpful) {
    message.feedback = helpful ? "up" : "down";
    if (!helpful) { message.comment = "open"; }
    save();
    render();
    if (helpful) {
      status.textContent = "Thank you for your feedback.";
    } else {
      status.textContent = "Thank you. You may say in one line what you were looking for, or skip.";
      var line = document.getElementById("comment-" + message.messageId);
      if (line) { line.focus(); }
    }
    postFeedback(message, helpful, null);
  }

  function postFeedback(message, helpful, comment) {
    var payload = { message_id: message.messageId, helpful: helpful };
    if (comment) { payload.comment = comment; }
    post("/api/feedback", payload).catch(function () {
      /* feedback is best effort: the visitor already got the thank-you */
    });
  }

  function closePanel() {
    if (window.parent !== window) { window.parent.postMessage({ type: "acu-chat:close" }, "*"); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    ask(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closePanel(); }
  });
  document.getElementById("close").addEventListener("click", closePanel);
  document.getElementById("new-chat").addEventListener("click", function () {
    state = { sessionId: newId(), messages: [] };
    save();
    render();
    input.focus();
  });
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "acu-chat:focus") { input.focus(); }
  });

  render();
  // Ready: the handlers above are attached, so typing can start.
  input.disabled = false;
  sendButton.disabled = false;
})();
