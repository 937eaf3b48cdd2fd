// Sales dashboard: swap in a fresh table every few seconds (the view renders just the table with ?fragment=1).
(function () {
  "use strict";
  var box = document.getElementById("sales");
  if (!box) { return; }
  var seconds = parseInt(box.dataset.refreshSeconds || "5", 10);
  setInterval(function () {
    fetch(window.location.pathname + "?fragment=1", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { box.innerHTML = html; } })
      .catch(function () { /* keep the last figures; the next tick retries */ });
  }, seconds * 1000);
})();
