/* chatops chat widget: <script async src="https://<chatops host>/widget.js" data-key="<widget key>"></script>
 * Plain JavaScript, no build step. It talks only to the origin it came from, lives in a shadow root
 * (the site's CSS cannot reach in) and sets all text with textContent. Messages not yet acknowledged
 * wait in localStorage and are re-sent after a reconnect or a page change; the server stores a
 * resend once (same client_msg_id). saved.seq is the last number up to which every message is here: a gap
 * after it, or a ping's answer naming a higher last number, fetches the rest ("resume"), so nothing the
 * server sent is lost unseen (conversations/protocol.py). After a chat it offers a 1–5 rating and the transcript by e-mail;
 * on pages with an invitation rule it invites the visitor (the server decides when).
 * Served without comments and indentation (conversations/widget_script.py): keep comments on lines of
 * their own, after " // ", or in a one-line block comment; no string may contain " // " or a block
 * comment opener. */
(() => {
  "use strict";
  const w = window, d = document;
  if (w.chatopsWidget) return;
  const tag = d.currentScript || d.querySelector('script[data-key][src*="widget.js"]');
  if (!tag || !w.WebSocket || !Element.prototype.attachShadow) return;

  const key = encodeURIComponent(tag.dataset.key || "");
  const server = new URL(tag.src, location.href).origin;
  const api = `${server}/widget/${key}/`;
  const socketUrl = `${server.replace(/^http/, "ws")}/ws/widget/${key}/`;
  const storeKey = `chatops:${key}`;

  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { /* no storage: start afresh */ }
  saved.log = saved.log || []; // this conversation's messages, shown at once on the next page
  saved.outbox = saved.outbox || []; // typed, not acknowledged yet: {id, body, at}
  const write = () => {
    saved.log = saved.log.slice(-200);
    try { localStorage.setItem(storeKey, JSON.stringify(saved)); } catch (e) { /* the chat works without */ }
  };

  let cfg, S, ui, ws, ready, dead, tries = 0, inflight, firstHello = true, conv = null, serviceOpen, view = "chat", resuming;
  let agentSeq = 0, ackedSeq = 0, unread = 0, shown = {}, mine = {}, sentTyping = 0, typingTimer, agentTimer;
  let formId = uid(), invite, pick, commenting;

  function uid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join("");
  }
  const t = (name, args) => S[name].replace(/%\((\w+)\)s/g, (m, k) => args[k]);
  function el(tagName, cls, text, parent) {
    const e = d.createElement(tagName);
    e.className = cls;
    if (text != null) e.textContent = text;
    if (parent) parent.append(e);
    return e;
  }
  const $ = (sel) => ui.root.querySelector(sel);
  const send = (frame) => ws && ws.readyState === 1 && ws.send(JSON.stringify(frame));
  const clock = (iso) => new Date(iso || Date.now()).toLocaleTimeString(cfg.language, { timeStyle: "short" });
  const icon = (path, stroke) => `<svg${stroke ? ' class="sk"' : ""} viewBox="0 0 24 24"><path d="${path}"/></svg>`;
  const CHAT = "M5 3h14a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3h-7l-5 4v-4H5a3 3 0 0 1-3-3V6a3 3 0 0 1 3-3z";
  const CLOSE = "M6 6l12 12M18 6 6 18";

  const CSS = `*{box-sizing:border-box;margin:0;padding:0;font:inherit;color:inherit}
.w{all:initial;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2937}
[hidden]{display:none!important}button{cursor:pointer;border:0;background:none}
svg{width:24px;height:24px;fill:currentColor}.sk{fill:none;stroke:currentColor;stroke-width:2.2;stroke-linecap:round}
.l,.sb,.bt{background:var(--c);color:var(--i)}
.l{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;display:grid;place-items:center;
 box-shadow:0 8px 24px #0f172a40;transition:transform .15s}.l:hover{transform:scale(1.06)}
.b{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;
 background:#e11d48;color:#fff;font-size:12px;font-weight:700;display:grid;place-items:center;border:2px solid #fff}
.p{position:fixed;right:20px;bottom:94px;width:376px;height:600px;max-height:calc(100vh - 114px);background:#fff;
 border-radius:18px;overflow:hidden;display:flex;flex-direction:column;box-shadow:0 18px 60px #0f172a48;
 animation:in .18s ease-out}@keyframes in{from{opacity:0;transform:translateY(12px)}}
.h{background:var(--c);color:var(--i);padding:18px 16px 18px 20px;display:flex;align-items:center;gap:12px}
.a{width:40px;height:40px;border-radius:50%;background:#ffffff38;display:grid;place-items:center;font-size:17px;
 font-weight:700}.ht{flex:1;min-width:0}b{font-weight:650;font-size:16px}
small{display:block;font-size:12.5px}.h small{opacity:.92}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#9ca3af;margin-right:6px}
.on .dot{background:#34d399}.x{width:36px;height:36px;border-radius:10px;display:grid;place-items:center}
.x:hover{background:#ffffff2e}.z{background:#fef3c7;color:#92400e;font-size:12.5px;padding:7px 14px;text-align:center}
.m{flex:1;overflow-y:auto;padding:18px 14px;background:#f6f7f9;display:flex;flex-direction:column;gap:10px}
.r{max-width:82%;align-self:flex-start}.me{align-self:flex-end}
.r p{padding:9px 13px;border-radius:16px 16px 16px 5px;background:#fff;box-shadow:0 1px 2px #0f172a1a;
 white-space:pre-wrap;overflow-wrap:anywhere}.me p{background:var(--c);color:var(--i);border-radius:16px 16px 5px 16px}
.r small{font-size:11px;color:#6b7280;margin:3px 6px 0}.me small{text-align:right}.no small{color:#b91c1c}
.s{align-self:center;font-size:12px;color:#6b7280;text-align:center}
.q{margin:0 14px 10px;padding:10px 12px;border-radius:12px;border:1px solid #e5e7eb;font-size:13px;display:flex;
 gap:10px;align-items:center;justify-content:space-between}.q button,.lk{color:var(--c);font-weight:600;white-space:nowrap}
.t{padding:0 18px 8px;font-size:12px;color:#6b7280;font-style:italic;background:#f6f7f9}
.k{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid #eef0f3}
textarea,input{width:100%;border:1px solid #d1d5db;border-radius:12px;padding:9px 12px;outline:0;resize:none;
 font-weight:400}
textarea:focus,input:focus{border-color:var(--c);box-shadow:0 0 0 1px var(--c)}
.k textarea{max-height:120px;border-radius:20px;padding:9px 15px}
.sb{width:40px;height:40px;border-radius:50%;display:grid;place-items:center;flex:none}.sb svg{width:20px}
.o,.y{flex:1;overflow-y:auto;padding:20px;display:flex;flex-direction:column;gap:12px;color:#4b5563}
label{display:flex;flex-direction:column;gap:5px;font-size:13px;font-weight:600;color:#374151}
i{font-weight:400;color:#9ca3af}.e{color:#b91c1c;font-size:12px;margin-top:-6px}.e:empty{display:none}
.bt{border-radius:12px;padding:11px;font-weight:650}.bt:disabled{opacity:.6}
.y{align-items:center;justify-content:center;text-align:center}.y b{font-size:18px;color:#111827}
.ok{width:56px;height:56px;border-radius:50%;background:#d1fae5;color:#059669;display:grid;place-items:center}
.iv{position:fixed;right:20px;bottom:94px;width:300px;background:#fff;border-radius:16px;padding:16px;
 box-shadow:0 12px 40px #0f172a40}.iv p{margin:0 22px 12px 0;overflow-wrap:anywhere;cursor:pointer}
.iv .x{position:absolute;top:8px;right:8px}.af{padding:10px 14px;border-top:1px solid #eef0f3}.af b{font-size:14px}
.af form{display:flex;gap:8px;margin:6px 0;align-items:flex-end}.af form>*{flex:1}.af .bt{flex:none}
.st button{font-size:28px;color:#d1d5db}.st .on{color:#f59e0b}
@media (max-width:480px){.p{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}}
@media (prefers-reduced-motion:reduce){.p{animation:none}}`;
  const HTML = `<style>${CSS}</style><div class="w"><button class="l" aria-expanded="false"></button>
<div class="p" role="dialog" hidden><div class="h"><div class="a"></div><div class="ht"><b></b>
<small><span class="dot"></span><span></span></small></div><button class="x">${icon(CLOSE, 1)}</button></div>
<div class="z" role="status" hidden></div><div class="m" aria-live="polite"><div class="r"><p></p></div></div>
<div class="t" hidden></div><div class="q" hidden><span></span><button></button></div>
<div class="af" hidden><div><b></b><div class="st"></div><form><textarea rows="2" maxlength="2000"></textarea>
<button class="bt"></button></form></div><form><label><span></span><input type="email" maxlength="254"></label>
<button class="bt"></button></form><p></p><em class="e"></em></div>
<div class="k"><textarea rows="1" maxlength="4000"></textarea><button class="sb">${icon("M3 20.5 21.5 12 3 3.5v6.7l12.5 1.8L3 13.8z")}</button></div>
<form class="o" novalidate hidden><p></p><label><span></span><input name="name" maxlength="120" autocomplete="name"></label>
<em class="e"></em><label><span></span><input name="email" type="email" maxlength="254" autocomplete="email"></label>
<em class="e"></em><label><span></span><textarea name="question" rows="5" maxlength="4000"></textarea></label>
<em class="e"></em><em class="e"></em><button class="bt"></button><button class="lk" type="button"></button></form>
<div class="y" hidden><div class="ok">${icon("M20 6 9 17l-5-5", 1)}</div><b></b><p></p><button class="lk"></button></div>
</div><div class="iv" role="dialog" hidden><button class="x">${icon(CLOSE, 1)}</button><p></p><button class="bt"></button></div></div>`;

  function build() {
    const host = d.createElement("chatops-widget");
    host.style.cssText = "all:initial!important;position:fixed!important;z-index:2147483000!important";
    const root = host.attachShadow({ mode: "open" });
    root.innerHTML = HTML; // constant markup; every text goes in below with textContent
    ui = { root };
    const colour = /^#[0-9a-f]{6}$/i.test(cfg.colour) ? cfg.colour : "#2563eb";
    const n = parseInt(colour.slice(1), 16);
    const light = ((n >> 16) * 299 + ((n >> 8) & 255) * 587 + (n & 255) * 114) / 1000 > 165;
    const top = $(".w");
    top.lang = cfg.language;
    top.style.cssText = `--c:${colour};--i:${light ? "#111827" : "#fff"}`;
    const [, , list, typing, queue, after, composer, form, thanks] = $(".p").children;
    const [rate, mail, , oops] = after.children, [question, stars, comment] = rate.children, iv = $(".iv");
    Object.assign(ui, { launcher: $(".l"), panel: $(".p"), list, typing, queue, after, composer, form, thanks, iv,
      oops, stars: stars.children, input: composer.firstChild, banner: $(".z"), status: $("small"),
      badge: el("span", "b"), errors: form.querySelectorAll(".e"), fields: form.querySelectorAll("[name]") });
    $("b").textContent = cfg.name;
    $(".r p").textContent = cfg.greeting;
    $(".x").ariaLabel = S.close;
    $(".sb").ariaLabel = S.send;
    ui.panel.ariaLabel = cfg.name;
    ui.input.placeholder = S.placeholder;
    queue.lastChild.textContent = S.leave_message;
    form.firstChild.textContent = S.offline_intro;
    const labels = form.querySelectorAll("label span");
    ["name", "email", "question"].forEach((f, i) => (labels[i].textContent = S[f]));
    el("i", "", ` (${S.optional})`, labels[0]);
    $(".o .bt").textContent = S.submit;
    // after a chat: 1–5 stars with a comment, and the transcript by e-mail
    question.textContent = S.rate;
    // A star click is saved at once (a visitor may leave right after it); the comment updates the same rating.
    for (let n = 1; n < 6; n++) {
      Object.assign(el("button", "", "★", stars), { ariaLabel: `${n}/5`, onclick: () => giveStars(n) });
    }
    comment[0].placeholder = comment[0].ariaLabel = S.comment;
    mail.querySelector("span").textContent = S.transcript;
    comment[1].textContent = mail[1].textContent = S.send;
    comment.onsubmit = (e) => {
      e.preventDefault();
      if (pick) giveStars(pick, comment[0].value);
    };
    mail.onsubmit = (e) => {
      e.preventDefault();
      send({ type: "transcript", conversation: saved.done, email: mail[0].value });
    };
    const [no, text, yes] = iv.children;
    yes.textContent = S.invite_accept;
    no.ariaLabel = S.dismiss;
    no.onclick = hideInvite;
    text.onclick = yes.onclick = () => {
      hideInvite();
      send({ type: "invite_accept", rule: invite });
      open(true);
    };
    $(".y b").textContent = S.thanks_title;
    root.querySelectorAll(".lk").forEach((b) => {
      b.textContent = S.back;
      b.onclick = () => { view = "chat"; render(); };
    });
    ui.launcher.onclick = () => open(ui.panel.hidden);
    $(".x").onclick = () => open(false);
    $(".sb").onclick = submit;
    queue.lastChild.onclick = () => { view = "form"; render(); };
    form.onsubmit = leaveMessage;
    ui.input.onkeydown = (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    };
    ui.input.oninput = () => {
      ui.input.style.height = "auto";
      ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 120)}px`;
      typingNow();
    };
    saved.log.forEach((m) => stored(m, 1));
    saved.outbox.forEach(pending);
    d.body.append(host);
    open(!!saved.open);
    connect();
    // The answer brings the chat's last number (a lost tail shows) and, while waiting, the place in the queue.
    setInterval(() => ready && send({ type: "ping" }), 20000);
    w.addEventListener("online", () => ws || connect());
  }

  // ---- the connection ----
  function connect() {
    if (dead) return;
    ws = new WebSocket(socketUrl);
    ws.onopen = hello;
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (on[f.type]) on[f.type](f);
    };
    ws.onclose = () => {
      ws = ready = inflight = resuming = null;
      if (dead) return;
      banner(S.reconnecting);
      setTimeout(connect, Math.min(10000, 500 * 2 ** tries++) * (0.8 + Math.random() * 0.4));
    };
  }

  function hello() {
    send({ type: "hello", token: saved.token || "", last_seq: saved.seq || 0,
      url: firstHello ? location.href : "", title: firstHello ? d.title : "" });
    firstHello = false;
  }

  const on = {
    welcome(f) {
      saved.token = f.token;
      serviceOpen = f.service_open;
      const c = f.conversation, id = c && c.id;
      if ((id || null) !== (saved.conv || null)) {
        const askedAfter = saved.seq;
        reset(id, 0);
        // We asked for the messages after a number in another conversation: ask for all of this one.
        if (id && askedAfter) return hello();
      }
      setConv(c);
      const r = f.invite;
      // The server decides again when asked, timed from the page view it recorded.
      if (r && !conv && !invite && !seen()) {
        invite = r.rule;
        setTimeout(() => send({ type: "invite_check", rule: invite }), r.seconds * 1000 + 250);
      }
      f.messages.forEach((m) => stored(m));
      ready = 1;
      tries = 0;
      banner("");
      write();
      render();
      ack();
      pump();
    },
    conversation(f) { setConv(f.conversation); write(); render(); },
    ack(f) {
      if (inflight && inflight.id === f.client_msg_id) {
        stored({ seq: f.seq, sender: "visitor", body: inflight.body, client_msg_id: f.client_msg_id, created_at: inflight.at });
        inflight = null;
      }
      drop(f.client_msg_id);
      pump();
    },
    message(f) {
      if (!conv || f.conversation === conv.id) stored(f);
      write();
    },
    history(f) {
      if (conv && f.conversation === conv.id) f.messages.forEach((m) => stored(m));
      resuming = 0;
      write();
    },
    pong(f) {
      const c = f.conversation;
      // A chat this page does not show (started in another tab): start over.
      if (c && (!conv || c.id !== conv.id)) return hello();
      if (!c) return;
      setConv(c);
      render();
      resume(c.last_seq);
    },
    assigned(f) {
      if (!conv || f.conversation !== conv.id) return;
      if (f.agent_name && f.agent_name !== conv.agent_name) note(t("joined", { name: f.agent_name }));
      Object.assign(conv, { status: f.status, agent_name: f.agent_name });
      render();
    },
    typing(f) {
      if (f.sender !== "agent") return;
      ui.typing.textContent = t("typing", { name: f.agent_name || S.agent });
      ui.typing.hidden = !f.active;
      clearTimeout(agentTimer); // a lost "stopped typing" must not leave the line up for ever
      agentTimer = setTimeout(() => (ui.typing.hidden = true), 8000);
    },
    closed(f) {
      if (!conv || f.conversation !== conv.id) return;
      note(S.ended);
      reset(null, 1);
      conv = null;
      star(0);
      done({ done: f.conversation, ended: Date.now(), rated: 0, commented: 0, mailed: "" });
    },
    invite(f) {
      if (conv || !ui.panel.hidden) return;
      invite = f.rule;
      ui.iv.children[1].textContent = f.message;
      ui.iv.hidden = false;
    },
    rated(f) {
      star(f.rating);
      done({ rated: f.rating, commented: saved.commented || commenting });
    },
    transcript_requested(f) { done({ mailed: f.email }); },
    error(f) {
      if (/^(ra|tr|in)/.test(f.ref)) return (ui.oops.textContent = f.message);
      if (/^(unknown_key|origin_not_allowed|not_serving)$/.test(f.code)) {
        dead = 1;
        return ui.root.host.remove();
      }
      const item = inflight;
      inflight = null;
      if (item && /^(rate_limited|closed|overloaded)$/.test(f.code)) setTimeout(pump, (f.retry_after || 5) * 1e3);
      else if (item) { // refused for good: say so rather than retry for ever
        drop(item.id);
        const r = mine[item.id];
        if (r) { r.className += " no"; state(r, S.not_sent); }
        pump();
      }
      banner(f.message);
      setTimeout(() => ready && banner(""), 6000);
    },
  };

  function pump() { // one message at a time, in order: the next goes when the previous is acknowledged
    if (!ready || inflight || !saved.outbox.length) return;
    inflight = saved.outbox[0];
    send({ type: "message", body: inflight.body, client_msg_id: inflight.id });
  }
  function drop(id) { saved.outbox = saved.outbox.filter((m) => m.id !== id); write(); }
  function resume(last) { // the server has messages after saved.seq that are not here: fetch them
    if (!ready || resuming || last <= (saved.seq || 0)) return;
    resuming = 1;
    send({ type: "resume", last_seq: saved.seq || 0 });
  }

  function ack() {
    if (ready && !ui.panel.hidden && agentSeq > ackedSeq) send({ type: "ack", seq: (ackedSeq = agentSeq) });
  }
  function typingNow() {
    if (!conv) return;
    if (Date.now() - sentTyping > 3000) { sentTyping = Date.now(); send({ type: "typing", active: true }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(typingStopped, 4000);
  }
  function typingStopped() {
    clearTimeout(typingTimer);
    if (sentTyping) send({ type: "typing", active: false });
    sentTyping = 0;
  }

  // ---- messages ----
  function setConv(c) {
    conv = c && c.status !== "closed" ? c : null;
    saved.conv = conv && conv.id;
    if (conv) saved.done = 0; // a new chat: the last one's rating form goes
  }
  function done(change) {
    Object.assign(saved, change);
    ui.oops.textContent = "";
    write();
    render();
    scroll(); // the form below the list took its room: keep the chat's last lines (its end) in view
  }
  function giveStars(n, text) {
    star(n);
    commenting = text != null;
    send({ type: "rate", conversation: saved.done, rating: n, ...(commenting && { comment: text }) });
  }
  function star(n) {
    pick = n;
    [...ui.stars].forEach((b, i) => (b.className = i < n ? "on" : ""));
  }
  const seen = () => { try { return sessionStorage[storeKey]; } catch (e) { /* no storage: ask */ } };
  function hideInvite() { // not asked again on this visit
    ui.iv.hidden = true;
    try { sessionStorage[storeKey] = 1; } catch (e) { /* asked again on the next page */ }
  }
  function reset(id, keepRows) {
    Object.assign(saved, { conv: id, seq: 0, log: [] });
    agentSeq = ackedSeq = 0;
    if (!keepRows) ui.list.querySelectorAll(".s,[data-seq]").forEach((r) => r.remove());
    shown = {};
  }

  function row(m) {
    const invitation = /^invite:/.test(m.client_msg_id); // an accepted invitation: the team's first line
    if (m.sender === "system" && !invitation) return el("div", "s", m.body, ui.list);
    const r = el("div", m.sender === "visitor" ? "r me" : "r", null, ui.list);
    el("p", "", m.body, r);
    r.meta = el("small", "", "", r);
    r.at = clock(m.created_at);
    state(r, m.sender === "visitor" ? S.sent : m.agent_name || (invitation ? cfg.name : S.agent));
    return r;
  }
  function state(r, label) {
    if (r.meta) r.meta.textContent = r.className === "r" ? `${label} · ${r.at}` : `${r.at} · ${label}`;
  }
  function note(text) { el("div", "s", text, ui.list); scroll(); }
  function scroll() { ui.list.scrollTop = 1e9; }

  function pending(item) {
    state((mine[item.id] = row({ sender: "visitor", body: item.body, created_at: item.at })), S.sending);
    scroll();
  }

  function stored(m, fromLog) {
    if (!m.seq || shown[m.seq]) return;
    let r = m.sender === "visitor" && mine[m.client_msg_id];
    if (r) { delete mine[m.client_msg_id]; drop(m.client_msg_id); state(r, S.sent); } else r = row(m);
    shown[m.seq] = r;
    r.dataset.seq = m.seq;
    // A message that fills a gap goes where its number puts it.
    const later = [...ui.list.querySelectorAll("[data-seq]")].find((x) => +x.dataset.seq > m.seq);
    if (later) ui.list.insertBefore(r, later);
    if (!fromLog) {
      const { seq, sender, body, agent_name, client_msg_id, created_at } = m;
      saved.log.push({ seq, sender, body, agent_name, client_msg_id, created_at });
      saved.log.sort((a, b) => a.seq - b.seq);
      saved.seq = saved.seq || 0;
      while (shown[saved.seq + 1]) saved.seq++;
      resume(m.seq);
    }
    if (m.sender === "agent" && m.seq > agentSeq) {
      agentSeq = m.seq;
      ui.typing.hidden = true;
      // An answer means the agent has read what came before it.
      Object.values(shown).forEach((x) => x.dataset.seq < agentSeq && x.className === "r me" && state(x, S.seen));
      if (ui.panel.hidden && !fromLog) unread++;
      ack();
      render();
    }
    scroll();
  }

  function submit() {
    const body = ui.input.value.trim();
    if (!body) return;
    const item = { id: uid(), body, at: new Date().toISOString() };
    saved.outbox.push(item);
    write();
    pending(item);
    ui.input.value = ui.input.style.height = "";
    typingStopped();
    pump();
  }

  // ---- the message form ----
  function leaveMessage(e) {
    e.preventDefault();
    const [name, email, question] = ui.fields, button = $(".o .bt"), errors = ui.errors;
    errors.forEach((x) => (x.textContent = ""));
    button.disabled = true;
    fetch(api + "offline-message", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: saved.token || "", name: name.value, email: email.value,
        question: question.value, client_msg_id: formId }),
    })
      .then((response) => response.json().then((data) => [response.status, data]))
      .then(([status, data]) => {
        if (status === 201) {
          Object.assign(saved, { token: data.token, left: data.conversation });
          write();
          $(".y p").textContent = t("thanks", { email: email.value.trim() });
          ui.form.reset();
          formId = uid();
          view = "thanks";
          return ready && hello(); // join the new conversation, so an answer shows here too
        }
        const error = data.error || {}, fields = error.fields || {};
        ["name", "email", "question"].forEach((f, i) => fields[f] && (errors[i].textContent = fields[f][0]));
        if (!error.fields) errors[3].textContent = error.message || S.error;
      })
      .catch(() => (errors[3].textContent = S.error))
      .then(() => { button.disabled = false; render(); });
  }

  // ---- what is on screen ----
  function waitText(seconds) {
    if (seconds < 60) return S.wait_soon;
    const step = Object.keys(cfg.wait_minutes).map(Number).sort((a, b) => a - b).find((n) => n * 60 >= seconds);
    return step ? cfg.wait_minutes[step] : S.wait_long;
  }

  function render() {
    // For an hour after a chat ends it can be rated here, even when the message form would show instead.
    const after = !conv && saved.done && Date.now() - saved.ended < 36e5;
    const showForm = view === "form" || (view === "chat" && !serviceOpen && !conv && !saved.outbox.length && !after);
    const showChat = !showForm && view === "chat";
    ui.list.hidden = ui.composer.hidden = !showChat;
    ui.form.hidden = !showForm;
    ui.thanks.hidden = view !== "thanks";
    ui.form.lastChild.hidden = !(serviceOpen || conv);
    const agent = conv && conv.agent_name, waiting = showChat && conv && conv.status === "waiting" && !agent;
    const nobody = waiting && conv.expected_wait_seconds == null, on = agent || (serviceOpen && !nobody);
    // The header never says "online" while the body says nobody is free.
    ui.status.lastChild.textContent = agent ? t("chatting_with", { name: agent }) : nobody ? S.busy : on ? S.online : S.away;
    ui.status.className = on ? "on" : "";
    $(".a").textContent = (agent || cfg.name).trim().charAt(0).toUpperCase();
    const [rate, mail, thanks] = ui.after.children;
    ui.after.hidden = !(showChat && after);
    rate.hidden = !!saved.commented; // stars alone are saved: the comment box stays until it is sent
    if (saved.rated && !pick) star(saved.rated);
    mail.hidden = saved.mailed;
    thanks.textContent = `${saved.rated ? S.rated : ""} ${saved.mailed ? t("transcript_sent", { email: saved.mailed }) : ""}`;
    ui.queue.hidden = !waiting;
    if (waiting) {
      const place = conv.queue_position ? `${t("queue", { position: conv.queue_position })} ` : "";
      ui.queue.firstChild.textContent = nobody ? S.nobody : place + t("wait", { wait: waitText(conv.expected_wait_seconds) });
      ui.queue.lastChild.hidden = !nobody || saved.left === conv.id;
    }
    ui.launcher.innerHTML = icon(ui.panel.hidden ? CHAT : CLOSE, !ui.panel.hidden);
    ui.launcher.ariaLabel = ui.panel.hidden ? S.open : S.close;
    ui.badge.textContent = unread;
    if (unread) ui.launcher.append(ui.badge);
  }

  function open(yes) {
    saved.open = yes;
    write();
    ui.panel.hidden = !yes;
    ui.launcher.ariaExpanded = yes;
    if (yes) {
      ui.iv.hidden = true;
      unread = 0;
      scroll();
      ack();
      if (!ui.composer.hidden) ui.input.focus();
    }
    render();
  }

  function banner(text) {
    ui.banner.textContent = text;
    ui.banner.hidden = !text;
  }

  // A small handle for the site (and the end-to-end tests): open or close the chat, read its state.
  w.chatopsWidget = {
    open: () => ui && open(true),
    close: () => ui && open(false),
    get state() {
      return { ready: !!ready, view, serviceOpen, conversation: conv, outbox: saved.outbox.length, lastSeq: saved.seq || 0 };
    },
  };

  fetch(api + "config")
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((config) => {
      cfg = config;
      S = config.strings;
      serviceOpen = config.service_open;
      if (d.body) build();
      else d.addEventListener("DOMContentLoaded", build);
    })
    .catch((reason) => console.warn("chatops: the chat is not available on this site", reason));
})();
