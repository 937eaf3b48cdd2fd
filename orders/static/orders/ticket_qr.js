// Rotating ticket QR: fetch a fresh code shortly before the current one expires, without reloading the page.
// Without JavaScript the page still shows the current code and a reload link.
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var box = document.getElementById("qr");
  if (!box || !window.fetch) { return; }
  var statusLine = document.getElementById("qr-status");
  var expiry = document.getElementById("qr-expiry");
  var tokenText = document.getElementById("qr-token");
  var url = box.getAttribute("data-qr-url");
  var failures = 0;
  var timer = null;

  function schedule(expiresAt) {
    var msLeft = new Date(expiresAt).getTime() - Date.now();
    // Refresh at 75% of the remaining life (at least 10 s early), never busier than once a second.
    var wait = Math.max(1000, Math.min(msLeft * 0.75, msLeft - 10000));
    clearTimeout(timer);
    timer = setTimeout(refresh, wait);
  }

  function markStale(message) {
    box.classList.add("stale");
    if (statusLine) { statusLine.textContent = message; }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          markStale(answer.body.detail || gettext("This ticket can no longer show a code. Reload the page."));
          return;
        }
        failures = 0;
        box.innerHTML = answer.body.svg;
        box.classList.remove("stale");
        box.setAttribute("data-expires-at", answer.body.expires_at);
        if (expiry) {
          expiry.setAttribute("datetime", answer.body.expires_at);
          expiry.textContent = answer.body.expires_at_display || answer.body.expires_at;
        }
        if (tokenText) { tokenText.textContent = answer.body.token; }
        schedule(answer.body.expires_at);
      })
      .catch(function () {
        failures += 1;
        if (new Date(box.getAttribute("data-expires-at")).getTime() < Date.now()) {
          markStale(gettext("No connection: this code has expired. It will refresh when you are back online."));
        }
        clearTimeout(timer);
        timer = setTimeout(refresh, Math.min(30000, 2000 * failures));
      });
  }

  // Coming back to the tab (phones suspend timers): refresh at once if the code is close to expiring.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" &&
        new Date(box.getAttribute("data-expires-at")).getTime() - Date.now() < 15000) {
      refresh();
    }
  });
  var reload = document.getElementById("qr-reload");
  if (reload) {
    reload.addEventListener("click", function (event) { event.preventDefault(); refresh(); });
  }
  schedule(box.getAttribute("data-expires-at"));
})();
