/* A running cycle's page follows it: it polls the pages' progress resource (data-progress-url, the
   session's own) and updates the status, the stage and the progress bar in place; once the cycle is
   done or failed it reloads, so that the page shows the summary (or the reason). Without this script
   the page shows the state at load and a link to refresh it. */
(function () {
  "use strict";
  var box = document.getElementById("cycle-state");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var lang = document.documentElement.lang || undefined;
  var format = function (n) { try { return new Intl.NumberFormat(lang).format(n); } catch (e) { return String(n); } };
  var fill = function (template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  };
  var set = function (id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } };
  var every = 1000;

  function show(state) {
    box.setAttribute("data-status", state.status);
    set("cycle-status", state.words.status);
    set("cycle-stage", state.words.stage ? "(" + state.words.stage + ")" : "");
    var p = state.progress;
    var part = document.getElementById("cycle-progress");
    if (p && part) {
      part.hidden = false;
      set("progress-stage", state.words.progress);
      set("progress-text", fill(box.getAttribute("data-text-of"), { done: format(p.done), total: format(p.total) }));
      var bar = document.getElementById("progress-bar");
      if (bar) { bar.max = p.total || 1; bar.value = p.done; }
      set("progress-left", p.left_s != null && !state.finished ? fill(box.getAttribute("data-text-left"), { seconds: format(Math.round(p.left_s)) }) : "");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (r.redirected) { window.location.reload(); throw new Error("signed out"); } // the session ended: sign in again
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) { window.location.reload(); return; }
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, every * 5); });
  }

  window.setTimeout(poll, every);
})();
