// Customer chat page of `chat-widget serve`: vanilla JS, no dependencies.
// Text is only ever rendered with textContent; pushed links only for http/https.
// The page sends an application heartbeat (browsers cannot see websocket pings),
// reconnects with exponential backoff and jitter, and resumes from the last seq.
// Several processes of one service (docs/scale-out.md): ?servers=host:port,host:port
// connects to the first and moves to the next on every reconnect (any process
// resumes the chat); without it, the page's own host.
"use strict";
(() => {
  const STORE_KEY = "chat-widget-customer";
  const HEARTBEAT_MS = 15000;
  const SILENCE_MS = 35000;
  const TYPING_IDLE_MS = 3000;
  const AGENT_TYPING_MS = 15000;
  const BACKOFF_MS = [500, 15000];

  // The page's language: ?lang=de|en, else the browser's preferred languages
  // (Accept-Language), else English. Server notices and agents' texts are shown as sent.
  const TEXTS = {
    en: {
      title: "Chat with us",
      idle: "Start a chat below",
      intro: "Tell us your name and we connect you with the next free person on our team.",
      name: "Your name",
      email: "E-mail (optional)",
      phone: "Phone (optional)",
      start: "Start chat",
      conversation: "Conversation",
      agentTyping: "The agent is typing…",
      message: "Message",
      placeholder: "Type your message",
      send: "Send",
      end: "End chat",
      you: "You",
      sending: "You (sending…)",
      started: "You started the chat. Please wait for an agent.",
      joined: "{name} joined the chat",
      left: "{name} left the chat",
      youLeft: "You left the chat.",
      transferred: "Your chat was transferred from {from} to {to}",
      yourAgent: "your agent",
      endedBy: "{name} ended the chat.",
      idleAlert: "No message for a while: this chat closes in {seconds} s unless you write.",
      idleClosed: "The chat was closed because there was no message for a while.",
      connected: "Connected",
      waiting: "Connected · waiting for the next free person",
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      ended: "Chat ended",
      over: "This chat has ended. Thank you!",
      again: "Start a new chat",
      lost: "Connection lost. Reconnecting…",
      unreachable: "The chat service cannot be reached right now. Trying again…",
      unreadable: "A message from the chat service could not be read.",
      pushedLink: "A link for you:",
      pushAsk: "Please click the link your agent sent:",
      errRate: "You are sending messages very quickly. Please wait a moment and try again.",
      errTooLong: "Your message is too long. Please shorten it or send it in parts.",
      errOver: "This chat is over. You can start a new one.",
      errBusy: "The chat service is busy. Your message is sent again in a moment.",
      errGeneric: "Something went wrong. Please try again.",
    },
    de: {
      title: "Chatten Sie mit uns",
      idle: "Starten Sie unten einen Chat",
      intro: "Sagen Sie uns Ihren Namen, und wir verbinden Sie mit der nächsten freien Person aus unserem Team.",
      name: "Ihr Name",
      email: "E-Mail (optional)",
      phone: "Telefon (optional)",
      start: "Chat starten",
      conversation: "Unterhaltung",
      agentTyping: "Die Beratung schreibt…",
      message: "Nachricht",
      placeholder: "Ihre Nachricht",
      send: "Senden",
      end: "Chat beenden",
      you: "Sie",
      sending: "Sie (wird gesendet…)",
      started: "Sie haben den Chat gestartet. Gleich ist jemand für Sie da.",
      joined: "{name} ist dem Chat beigetreten",
      left: "{name} hat den Chat verlassen",
      youLeft: "Sie haben den Chat verlassen.",
      transferred: "Ihr Chat wurde von {from} an {to} weitergeleitet",
      yourAgent: "Ihrer Beratung",
      endedBy: "{name} hat den Chat beendet.",
      idleAlert: "Länger keine Nachricht: Dieser Chat wird in {seconds} s geschlossen, wenn Sie nicht schreiben.",
      idleClosed: "Der Chat wurde geschlossen, weil länger keine Nachricht kam.",
      connected: "Verbunden",
      waiting: "Verbunden · gleich ist jemand für Sie da",
      connecting: "Verbindung wird aufgebaut…",
      reconnecting: "Verbindung wird wiederhergestellt…",
      ended: "Chat beendet",
      over: "Dieser Chat ist beendet. Vielen Dank!",
      again: "Neuen Chat starten",
      lost: "Verbindung unterbrochen. Wird wiederhergestellt…",
      unreachable: "Der Chat ist gerade nicht erreichbar. Neuer Versuch läuft…",
      unreadable: "Eine Nachricht des Chats konnte nicht gelesen werden.",
      pushedLink: "Ein Link für Sie:",
      pushAsk: "Bitte klicken Sie auf den Link, den Ihre Beratung gesendet hat:",
      errRate: "Sie senden sehr schnell. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
      errTooLong: "Ihre Nachricht ist zu lang. Bitte kürzen Sie sie oder senden Sie sie in Teilen.",
      errOver: "Dieser Chat ist beendet. Sie können einen neuen starten.",
      errBusy: "Der Chat ist gerade ausgelastet. Ihre Nachricht wird gleich erneut gesendet.",
      errGeneric: "Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.",
    },
  };
  function pickLanguage() {
    const asked = new URLSearchParams(location.search).get("lang");
    if (asked && TEXTS[asked]) return asked;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const primary = String(tag).toLowerCase().split("-")[0];
      if (TEXTS[primary]) return primary;
    }
    return "en";
  }
  const LANG = pickLanguage();
  const DEFAULT_PUSH_TEXT = "Please click the link your agent sent: {url}";
  const t = (key, params = {}) =>
    TEXTS[LANG][key].replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));

  // ?servers=host:port,...: where the websocket goes. Entries that are not a bare host
  // with an optional port are ignored with a warning; none left: the page's own host.
  function pickServers() {
    const raw = new URLSearchParams(location.search).get("servers");
    if (raw === null) return [location.host];
    const servers = [];
    for (const item of raw.split(",")) {
      const entry = item.trim();
      if (!entry) continue; // "a:1," is fine
      const host = /[/@?#\\\s]/.test(entry) ? null : hostOf(entry);
      if (host) servers.push(host);
      else console.warn(`chat: ignoring ${JSON.stringify(entry)} in ?servers= (expected host:port)`);
    }
    if (servers.length) return servers;
    console.warn(`chat: no usable address in ?servers=, using ${location.host}`);
    return [location.host];
  }
  function hostOf(entry) {
    try {
      const url = new URL(`ws://${entry}`);
      return url.hostname && url.pathname === "/" ? url.host : null;
    } catch {
      return null;
    }
  }
  const SERVERS = pickServers();
  const SCHEME = location.protocol === "https:" ? "wss:" : "ws:"; // never plain ws on https
  let serverIndex = 0; // the server of the current (or next) connection

  const $ = (id) => document.getElementById(id);
  const statusEl = document.querySelector("[data-testid=customer-status]");
  const transcript = $("transcript");
  const typingEl = $("typing");
  const input = $("message");
  const errorEl = $("error");

  const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
  const state = saved || { conversation: null, token: null, lastSeq: 0, outbox: [], ended: false };
  let contact = null; // RequestChat fields until the chat exists
  let ws = null;
  let attempt = 0;
  let heartbeat = null;
  let lastHeard = 0;
  let typingSent = false;
  let typingTimer = null;
  let agentTypingTimer = null;
  let idCounter = 0;
  let everConnected = false;
  let agentJoined = false;
  const idPrefix = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random())).slice(0, 13);

  const save = () => sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
  const nextId = () => `${idPrefix}-${Date.now().toString(36)}-${++idCounter}`;

  function setStatus(status, text) {
    statusEl.dataset.status = status;
    statusEl.textContent = text;
  }

  function showError(text) {
    errorEl.textContent = text || "";
  }

  function safeLink(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function time(ms) {
    return new Date(ms).toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
  }

  function addEntry(kind, who, text, ms, opts = {}) {
    const li = document.createElement("li");
    li.className = kind;
    li.dataset.kind = kind;
    if (opts.mine) li.classList.add("mine");
    if (opts.seq) li.dataset.seq = String(opts.seq);
    if (opts.event) li.dataset.event = opts.event; // idle_alert, idle_close (issue 16)
    if (ms) li.dataset.time = new Date(ms).toISOString(); // the server's time (utcTime)
    if (who !== null) {
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = ms ? `${who} · ${time(ms)}` : who;
      li.appendChild(meta);
    }
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    if (text) li.appendChild(body);
    if (opts.url) {
      const href = safeLink(opts.url);
      if (href) {
        const a = document.createElement("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = href;
        a.dataset.testid = "pushed-link";
        li.appendChild(a);
      }
    }
    transcript.appendChild(li);
    transcript.scrollTop = transcript.scrollHeight;
    return li;
  }

  function renderPending() {
    for (const el of transcript.querySelectorAll("li.pending")) el.remove();
    for (const frame of state.outbox) {
      if (frame.type !== "SendMessage") continue;
      const li = addEntry("message", t("sending"), frame.text, 0, { mine: true });
      li.classList.add("pending");
      li.dataset.clientId = frame.id;
    }
  }

  function setAgentTyping(on) {
    typingEl.hidden = !on;
    clearTimeout(agentTypingTimer);
    if (on) agentTypingTimer = setTimeout(() => (typingEl.hidden = true), AGENT_TYPING_MS);
  }

  function ended(text, event) {
    state.ended = true;
    save();
    input.disabled = true;
    $("composer").hidden = true;
    setAgentTyping(false);
    stopTyping();
    if (text) addEntry("notice", null, text, 0, { event });
    setStatus("ended", t("ended"));
    $("over-text").textContent = t("over");
    $("over").hidden = false;
    $("again").focus();
  }

  function startAgain() {
    // a fresh chat: forget the old one (its history stays with the agent), keep the name
    sessionStorage.removeItem(STORE_KEY);
    Object.assign(state, { conversation: null, token: null, lastSeq: 0, outbox: [], ended: false });
    contact = null;
    agentJoined = false;
    attempt = 0;
    if (ws) {
      ws.onclose = null;
      ws.close();
      ws = null;
    }
    clearInterval(heartbeat);
    transcript.replaceChildren();
    showError("");
    input.disabled = false;
    $("composer").hidden = false;
    $("over").hidden = true;
    $("chat").hidden = true;
    $("start").hidden = false;
    $("start").querySelector("button").disabled = false;
    setStatus("idle", t("idle"));
    $("nickname").focus();
  }

  function onEvent(ev) {
    if (ev.seq <= state.lastSeq) return; // seen already
    state.lastSeq = ev.seq;
    save();
    const from = ev.from || {};
    const isClient = from.type === "Client";
    switch (ev.type) {
      case "Message":
        if (!isClient) setAgentTyping(false);
        if (isClient && ev.clientId) {
          // our own message is stored: it is no longer pending (its Ack may come later)
          state.outbox = state.outbox.filter((f) => f.id !== ev.clientId);
          save();
        }
        addEntry("message", isClient ? t("you") : from.nickname, ev.text, ev.utcTime, { mine: isClient, seq: ev.seq });
        renderPending();
        break;
      case "PushUrl": {
        setAgentTyping(false);
        // the link is shown once: a text that only repeats the URL gives way to a label,
        // the default text (chat_widget.formats.notices.DEFAULT_PUSH_URL_TEXT) reads in
        // the page's language; a text the agent's center configured is shown as sent
        const text = (ev.text || "").trim();
        const label = text === DEFAULT_PUSH_TEXT.replace("{url}", ev.url)
          ? t("pushAsk")
          : text && text !== ev.url && text !== safeLink(ev.url) ? ev.text : t("pushedLink");
        addEntry("push_url", from.nickname, label, ev.utcTime, { url: ev.url, seq: ev.seq });
        break;
      }
      case "TypingStarted":
        if (!isClient) setAgentTyping(true);
        break;
      case "TypingStopped":
        if (!isClient) setAgentTyping(false);
        break;
      case "Notice":
        addEntry("notice", null, ev.text, ev.utcTime, { seq: ev.seq });
        break;
      case "ParticipantJoined":
        if (!isClient) {
          agentJoined = true;
          if (!state.ended) setStatus("connected", t("connected"));
        }
        addEntry("notice", null, isClient ? t("started") : t("joined", { name: from.nickname }), ev.utcTime, { seq: ev.seq });
        break;
      case "ParticipantLeft":
        if (isClient) ended(t("youLeft"));
        else addEntry("notice", null, t("left", { name: from.nickname }), ev.utcTime, { seq: ev.seq });
        break;
      case "ChatTransferred":
        setAgentTyping(false);
        addEntry(
          "notice",
          null,
          t("transferred", { from: (ev.previous || {}).nickname || t("yourAgent"), to: from.nickname }),
          ev.utcTime,
          { seq: ev.seq },
        );
        break;
      case "IdleAlert": // the customer has been silent while the agent waits (issue 16)
        addEntry("notice", null, t("idleAlert", { seconds: ev.closesIn }), ev.utcTime, {
          seq: ev.seq,
          event: "idle_alert",
        });
        break;
      case "ChatEnded":
        if (ev.reason === "idle") ended(t("idleClosed"), "idle_close");
        else ended(t("endedBy", { name: from.nickname }));
        break;
      default:
        break; // agents-only events never reach customers; unknown ones are ignored
    }
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  function queue(frame) {
    state.outbox.push(frame);
    save();
    if (state.conversation) send(frame);
  }

  function onFrame(frame) {
    lastHeard = Date.now();
    switch (frame.type) {
      case "ChatStarted":
        state.conversation = frame.conversation;
        state.token = frame.token;
        save();
        contact = null;
        attempt = 0;
        everConnected = true;
        if (!state.ended) setStatus("connected", agentJoined ? t("connected") : t("waiting"));
        showError("");
        $("start").hidden = true;
        $("chat").hidden = false;
        for (const f of state.outbox) send(f); // resend, same ids: stored once
        break;
      case "Ack":
        state.outbox = state.outbox.filter((f) => f.id !== frame.id);
        save();
        renderPending();
        break;
      case "Error":
        if (frame.id) {
          state.outbox = state.outbox.filter((f) => f.id !== frame.id);
          save();
          renderPending();
        }
        if (frame.code === "forbidden" && !state.conversation) break;
        if (frame.code === "forbidden" && frame.id && frame.id.startsWith("resume")) {
          sessionStorage.removeItem(STORE_KEY);
        }
        showError(humanError(frame));
        break;
      case "Pong":
        break;
      default:
        if (typeof frame.seq === "number") onEvent(frame);
    }
  }

  // the server's messages are for developers: the customer reads a sentence per code
  function humanError(frame) {
    switch (frame.code) {
      case "rate_limited":
        return t("errRate");
      case "message_too_long":
        return t("errTooLong");
      case "invalid_state":
        return t("errOver");
      case "unavailable":
        return t("errBusy");
      default:
        return t("errGeneric");
    }
  }

  function connect() {
    const url = `${SCHEME}//${SERVERS[serverIndex]}/ws`;
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? t("reconnecting") : t("connecting"));
    ws = new WebSocket(url);
    ws.onopen = () => {
      lastHeard = Date.now();
      if (state.conversation) {
        send({ v: 1, type: "ResumeChat", id: `resume-${nextId()}`, conversation: state.conversation, token: state.token, lastSeq: state.lastSeq });
      } else if (contact) {
        send({ v: 1, type: "RequestChat", id: nextId(), ...contact });
      }
      clearInterval(heartbeat);
      heartbeat = setInterval(() => {
        if (Date.now() - lastHeard > SILENCE_MS) ws.close();
        else send({ v: 1, type: "Ping", id: nextId() });
      }, HEARTBEAT_MS);
    };
    ws.onmessage = (msg) => {
      try {
        onFrame(JSON.parse(msg.data));
      } catch (err) {
        console.warn("unreadable frame", err);
        showError(t("unreadable"));
      }
    };
    ws.onclose = (ev) => {
      clearInterval(heartbeat);
      ws = null;
      if (state.ended && state.outbox.length === 0) {
        setStatus("ended", t("ended"));
        return;
      }
      if (!state.conversation && !contact) return;
      serverIndex = (serverIndex + 1) % SERVERS.length; // another process resumes the chat
      const cap = Math.min(BACKOFF_MS[1], BACKOFF_MS[0] * 2 ** attempt++);
      const delay = cap / 2 + Math.random() * (cap / 2); // jitter: no reconnect storms
      console.info("connection closed", ev.code, ev.reason);
      setStatus("reconnecting", everConnected ? t("lost") : t("unreachable"));
      setTimeout(connect, delay);
    };
  }

  $("start").addEventListener("submit", (e) => {
    e.preventDefault();
    const nickname = $("nickname").value.trim();
    if (!nickname) return;
    contact = { nickname };
    const email = $("email").value.trim();
    const phone = $("phone").value.trim();
    if (email) contact.email = email;
    if (phone) contact.phone = phone;
    $("start").querySelector("button").disabled = true;
    connect();
  });

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || state.ended) return;
    input.value = "";
    stopTyping();
    queue({ v: 1, type: "SendMessage", id: nextId(), conversation: state.conversation, text });
    renderPending();
  });

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSent) {
      typingSent = false;
      send({ v: 1, type: "StopTyping", id: nextId(), conversation: state.conversation });
    }
  }

  input.addEventListener("input", () => {
    if (!state.conversation || state.ended) return;
    if (!typingSent && input.value.trim()) {
      typingSent = true;
      send({ v: 1, type: "StartTyping", id: nextId(), conversation: state.conversation });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  $("again").addEventListener("click", startAgain);

  $("end").addEventListener("click", () => {
    if (state.ended) return;
    queue({ v: 1, type: "EndChat", id: nextId(), conversation: state.conversation });
  });

  if (state.conversation) {
    // a reload: resume the same chat, from the start of its history on this page
    state.lastSeq = 0;
    state.ended = false;
    $("start").hidden = true;
    $("chat").hidden = false;
    connect();
  }
})();
