/**
 * The console's page: plain HTML, CSS and JavaScript, served from this module (no build step).
 * The script builds every element with the DOM API and sets text with textContent, never
 * innerHTML, so nothing from the cluster is ever read as markup.
 */

/** The page, with this run's token for the X-Regcred-Token header (only served to the cookie holder). */
export function indexHtml(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="regcred-token" content="${escapeAttribute(token)}">
<title>regcred console</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <div class="brand">regcred <span>console</span></div>
  <nav>
    <a href="#/" id="nav-secrets">Secrets</a>
    <a href="#/create" id="nav-create">Create secret</a>
  </nav>
  <div class="identity" id="identity"></div>
</header>
<main>
  <div id="flash" role="status" aria-live="polite"></div>
  <div id="error" role="alert" hidden></div>
  <section id="view"></section>
</main>
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export const APP_CSS = `
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --accent: #2563eb; --ok: #15803d; --bad: #b91c1c; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #102a43; color: #fff; }
.brand { font-weight: 700; font-size: 16px; letter-spacing: .3px; }
.brand span { font-weight: 400; opacity: .75; }
nav a { color: #d9e2ec; text-decoration: none; margin-right: 16px; padding: 4px 0; border-bottom: 2px solid transparent; }
nav a.active { color: #fff; border-bottom-color: #60a5fa; }
.identity { margin-left: auto; font-size: 12px; opacity: .8; }
main { padding: 20px 24px; max-width: 1280px; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 15px; margin: 22px 0 8px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; font-size: 12px; text-transform: uppercase; color: var(--muted); }
td.mono, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; }
a { color: var(--accent); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e4e7eb; color: var(--muted); }
.badge.ok { background: #dcfce7; color: var(--ok); }
.badge.bad { background: #fee2e2; color: var(--bad); }
.badge.warn { background: #fef3c7; color: var(--warn); }
.muted { color: var(--muted); }
.toolbar { display: flex; align-items: center; gap: 12px; margin-bottom: 12px; }
.toolbar .spacer { flex: 1; }
.toolbar h1 { margin: 0; }
button, .button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .6; cursor: default; }
form.card, .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; max-width: 560px; }
.field { margin-bottom: 14px; }
.field label { display: block; font-weight: 600; margin-bottom: 4px; }
.field input[type=text], .field input[type=password] { width: 100%; padding: 7px 9px; border: 1px solid #bcccdc; border-radius: 6px; font: inherit; }
.field .hint { font-size: 12px; color: var(--muted); margin-top: 3px; }
.switch { display: flex; align-items: center; gap: 10px; font-weight: 600; cursor: pointer; }
.switch input { appearance: none; width: 38px; height: 22px; border-radius: 11px; background: #bcccdc; position: relative; cursor: pointer; margin: 0; }
.switch input::after { content: ""; position: absolute; top: 3px; left: 3px; width: 16px; height: 16px; border-radius: 50%; background: #fff; transition: left .15s; }
.switch input:checked { background: var(--accent); }
.switch input:checked::after { left: 19px; }
#flash:not(:empty) { background: #e0f2fe; border: 1px solid #7dd3fc; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; }
#flash div.warning { color: var(--warn); }
#error { background: #fee2e2; border: 1px solid #fca5a5; color: #7f1d1d; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; }
dl.facts { display: grid; grid-template-columns: 160px 1fr; gap: 6px 12px; margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
.empty { padding: 16px; color: var(--muted); background: #fff; border: 1px dashed var(--line); border-radius: 8px; }
`;

export const APP_JS = String.raw`"use strict";
(function () {
  var token = document.querySelector('meta[name="regcred-token"]').getAttribute("content");
  var view = document.getElementById("view");
  var flash = document.getElementById("flash");
  var errorBox = document.getElementById("error");
  var timer = null;

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "text") el.textContent = String(v);
        else if (k === "onclick" || k === "onsubmit" || k === "onchange") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
      else el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }

  function api(method, path, body) {
    var init = { method: method, headers: { "X-Regcred-Token": token }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch("/api/" + path, init).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) {
          var e = (data && data.error) || { code: res.status, reason: "Error", message: "HTTP " + res.status };
          throw e;
        }
        return data;
      });
    });
  }

  function showError(e) {
    if (!e) { errorBox.hidden = true; errorBox.textContent = ""; return; }
    // As the API server gave it: its reason, HTTP code and message.
    var text = e.console ? "Not sent: " + e.message
      : e.code ? "Error from server (" + e.reason + ", HTTP " + e.code + "): " + e.message
      : "Error: " + (e.message || String(e));
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function showFlash(done, warnings) {
    flash.textContent = "";
    (done || []).forEach(function (line) { flash.appendChild(h("div", { text: line })); });
    (warnings || []).forEach(function (w) { flash.appendChild(h("div", { class: "warning", text: "Warning: " + w })); });
  }

  function badge(text, kind, title) { return h("span", { class: "badge " + (kind || ""), title: title, text: text }); }

  function readyBadge(row) {
    if (!row.exported) return h("span", { class: "muted", text: "—" });
    if (row.ready === "True") return badge("Ready", "ok", row.readyMessage);
    if (row.ready === "False") return badge("Not ready: " + (row.readyReason || ""), "bad", row.readyMessage);
    return badge("Pending", "warn", row.readyMessage || "the controller has not reported yet");
  }

  function accessBadge(access) {
    if (!access) return h("span", { class: "muted", text: "not checked" });
    var kind = access.verdict === "ReadOnly" ? "ok" : access.verdict === "Writable" ? "bad" : "warn";
    return badge(access.verdict, kind, access.method + ": " + (access.message || ""));
  }

  function secretLink(ns, name) { return "#/secret/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name); }

  function setActive(which) {
    document.getElementById("nav-secrets").className = which === "secrets" ? "active" : "";
    document.getElementById("nav-create").className = which === "create" ? "active" : "";
  }

  function every(ms, fn) {
    if (timer) clearInterval(timer);
    fn();
    timer = setInterval(fn, ms);
  }

  function renderList() {
    setActive("secrets");
    view.textContent = "";
    var body = h("div", { id: "secrets-body" }, h("div", { class: "empty", text: "Loading…" }));
    view.appendChild(h("div", { class: "toolbar" },
      h("h1", { text: "Secrets" }), h("span", { class: "spacer" }),
      h("a", { class: "button", href: "#/create", text: "Create secret" })));
    view.appendChild(h("p", { class: "muted", text: "Every registry secret you can see in the cluster, exported or not. Copies regcred made are counted, not listed." }));
    view.appendChild(body);
    every(4000, function () {
      api("GET", "secrets").then(function (data) {
        showError(null);
        body.textContent = "";
        (data.warnings || []).forEach(function (w) { body.appendChild(h("p", { class: "muted", text: "Note: " + w })); });
        if (data.rows.length === 0) { body.appendChild(h("div", { class: "empty", text: "No registry secrets yet." })); return; }
        var rows = data.rows.map(function (r) {
          return h("tr", { "data-secret": r.namespace + "/" + r.name },
            h("td", { text: r.namespace }),
            h("td", null, h("a", { href: secretLink(r.namespace, r.name), text: r.name })),
            h("td", { class: "mono", text: !r.sourceFound ? "(source missing)" : r.problem ? "(malformed)" : r.registries.join(", ") }),
            h("td", { "data-col": "scope", text: r.exported ? r.exportedTo : "not exported" }),
            h("td", { "data-col": "access" }, r.exported ? accessBadge(r.access) : h("span", { class: "muted", text: "—" })),
            h("td", { "data-col": "copies", text: r.exported ? (r.copies === undefined ? "…" : String(r.copies)) : "—" }),
            h("td", { "data-col": "ready" }, readyBadge(r)));
        });
        body.appendChild(h("table", { id: "secrets" },
          h("thead", null, h("tr", null, ["Namespace", "Name", "Registries", "Export scope", "Access", "Copies", "Ready"].map(function (t) { return h("th", { text: t }); }))),
          h("tbody", null, rows)));
      }).catch(showError);
    });
  }

  function field(id, label, input, hint) {
    return h("div", { class: "field" }, h("label", { for: id, text: label }), input, hint ? h("div", { class: "hint", text: hint }) : null);
  }

  function renderCreate() {
    setActive("create");
    if (timer) clearInterval(timer);
    view.textContent = "";
    var ns = h("input", { type: "text", id: "namespace", name: "namespace", list: "namespaces", autocomplete: "off", required: true, spellcheck: "false" });
    var name = h("input", { type: "text", id: "name", name: "name", autocomplete: "off", required: true, spellcheck: "false", placeholder: "harbor-ro" });
    var server = h("input", { type: "text", id: "server", name: "server", autocomplete: "off", required: true, spellcheck: "false", placeholder: "harbor.example.com" });
    var user = h("input", { type: "text", id: "username", name: "username", autocomplete: "off", required: true, spellcheck: "false" });
    var pass = h("input", { type: "password", id: "password", name: "password", autocomplete: "new-password", required: true });
    var exportAll = h("input", { type: "checkbox", id: "export-all", name: "exportAll", role: "switch" });
    var list = h("datalist", { id: "namespaces" });
    var submit = h("button", { type: "submit", text: "Create secret" });
    var form = h("form", { class: "card", id: "create-form", autocomplete: "off" },
      field("namespace", "Namespace", ns, "Where the source secret lives, e.g. registry-creds"),
      list,
      field("name", "Name", name, "The secret's name; its export and copies are named after it"),
      field("server", "Registry URL", server, "host[:port][/path], e.g. harbor.example.com or registry.example.com:5000/team"),
      field("username", "Username", user, "A pull-only robot account or token is best: only read-only credentials may be exported"),
      field("password", "Password", pass, "Sent once to create the secret; never shown again"),
      h("div", { class: "field" }, h("label", { class: "switch", for: "export-all" }, exportAll, h("span", { text: "Export to all namespaces" })),
        h("div", { class: "hint", text: "Opted-in namespaces get a copy when a pod needs it" })),
      submit);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submit.disabled = true;
      showError(null);
      api("POST", "secrets", { namespace: ns.value, name: name.value, server: server.value, username: user.value, password: pass.value, exportAll: exportAll.checked })
        .then(function (res) {
          pass.value = "";
          showFlash(res.done, res.warnings);
          location.hash = "#/";
        })
        .catch(showError)
        .then(function () { submit.disabled = false; });
    });
    view.appendChild(h("h1", { text: "Create secret" }));
    view.appendChild(form);
    api("GET", "namespaces").then(function (data) {
      data.items.forEach(function (n) { list.appendChild(h("option", { value: n })); });
    }).catch(function () { /* a free-text namespace still works */ });
  }

  function table(headers, rows) {
    if (rows.length === 0) return h("div", { class: "empty", text: "None." });
    return h("table", null, h("thead", null, h("tr", null, headers.map(function (t) { return h("th", { text: t }); }))),
      h("tbody", null, rows.map(function (cells) { return h("tr", null, cells.map(function (c) { return typeof c === "string" ? h("td", { text: c }) : h("td", null, c); })); })));
  }

  function renderSecret(ns, name) {
    setActive("");
    view.textContent = "";
    var body = h("div", null, h("div", { class: "empty", text: "Loading…" }));
    view.appendChild(h("div", { class: "toolbar" }, h("h1", { text: ns + "/" + name }), h("span", { class: "spacer" }), h("a", { href: "#/", text: "← Secrets" })));
    view.appendChild(body);
    var path = "secrets/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name);
    every(4000, function () {
      api("GET", path).then(function (s) {
        showError(null);
        body.textContent = "";
        var facts = h("dl", { class: "facts" });
        function fact(k, v) { facts.appendChild(h("dt", { text: k })); facts.appendChild(h("dd", null, v)); }
        fact("Source", s.source.error ? "cannot be read: " + s.source.error : !s.source.found ? "does not exist" : s.source.problem ? "malformed: " + s.source.problem : (s.source.type || ""));
        fact("Registries", h("span", { class: "mono", text: s.source.registries.join(", ") || "—" }));
        if (s.source.declaredAccess) fact("Declared access", s.source.declaredAccess);
        var actions = h("div", { class: "toolbar" });
        if (s.export) {
          var e = s.export;
          fact("Export", "to " + e.exportedTo + " (" + e.provisioning + ", onRevoke " + e.onRevoke + ")");
          fact("Access", h("span", null, e.access ? accessBadge(e.access) : "not checked yet", e.access ? h("span", { class: "muted", text: " " + (e.access.message || "") }) : null));
          fact("Copies", e.copies === undefined ? "not counted yet" : String(e.copies));
          var ready = (e.conditions || []).filter(function (c) { return c.type === "Ready"; })[0];
          fact("Ready", ready ? badge(ready.status === "True" ? "Ready" : ready.reason, ready.status === "True" ? "ok" : "bad", ready.message) : badge("Pending", "warn"));
          actions.appendChild(h("button", { class: "danger", id: "unexport", text: "Unexport", onclick: function (ev) {
            if (!confirm("Stop exporting " + ns + "/" + name + "? regcred revokes its copies.")) return;
            ev.target.disabled = true;
            api("DELETE", path + "/export").then(function (r) { showFlash(r.done, r.warnings); renderSecret(ns, name); }).catch(showError);
          } }));
        } else {
          fact("Export", "not exported");
          actions.appendChild(h("button", { class: "secondary", id: "export", text: "Export to all namespaces", onclick: function (ev) {
            ev.target.disabled = true;
            api("POST", path + "/export", { toNamespaces: ["*"] }).then(function (r) { showFlash(r.done, r.warnings); renderSecret(ns, name); }).catch(showError);
          } }));
        }
        body.appendChild(facts);
        body.appendChild(h("h2", { text: "Actions" }));
        body.appendChild(actions);
        if (s.export) {
          body.appendChild(h("h2", { text: "Conditions" }));
          body.appendChild(table(["Type", "Status", "Reason", "Message"], s.export.conditions.map(function (c) { return [c.type, c.status, c.reason, c.message]; })));
        }
        body.appendChild(h("h2", { text: "Namespaces holding copies" }));
        body.appendChild(s.copiesError ? h("div", { class: "empty", text: s.copiesError }) : table(["Namespace", "Secret", "State"], s.copies.map(function (c) { return [c.namespace, c.name, c.state]; })));
        body.appendChild(h("h2", { text: "Recent events" }));
        body.appendChild(s.eventsError ? h("div", { class: "empty", text: s.eventsError }) : table(["Last seen", "Type", "Reason", "Message"], s.events.map(function (ev) { return [ev.lastSeen, ev.type, ev.reason, ev.count > 1 ? ev.message + " (x" + ev.count + ")" : ev.message]; })));
      }).catch(showError);
    });
  }

  function route() {
    var hash = location.hash || "#/";
    var m = /^#\/secret\/([^/]+)\/([^/]+)$/.exec(hash);
    if (hash !== "#/" && !m) { flash.textContent = ""; showError(null); }
    if (hash === "#/create") renderCreate();
    else if (m) renderSecret(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    else renderList();
  }

  window.addEventListener("hashchange", route);
  api("GET", "context").then(function (c) {
    document.getElementById("identity").textContent = "acting as " + c.user + " · context " + c.context + " · " + c.server;
  }).catch(function () { /* shown by the first API call */ });
  route();
})();
`;
