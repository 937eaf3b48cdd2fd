// Polls the room's status file (served statically, no Django) and updates the figures; when the room has
// admitted this page's position, reloads the room page, which hands out the pass and goes to the event.
(function () {
  "use strict";
  var root = document.getElementById("waiting-room");
  if (!root || !root.dataset.statusUrl) { return; }
  var position = parseInt(root.dataset.position, 10);
  var poll = (parseInt(root.dataset.pollSeconds, 10) || 10) * 1000;
  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function show(status) {
    if (status.sold_out) {
      var soldOut = field("soldout");
      if (soldOut) { soldOut.hidden = false; }
      return false;
    }
    if (!position) {
      if (status.drawn) { window.location.reload(); return false; }
      return true;
    }
    if (status.admitted_up_to >= position) { window.location.assign(root.dataset.roomUrl); return false; }
    var ahead = Math.max(0, position - status.admitted_up_to - 1);
    var rate = Math.max(1, status.rate_per_minute);
    if (field("ahead")) { field("ahead").textContent = ahead; }
    if (field("wait")) { field("wait").textContent = Math.ceil((position - status.admitted_up_to) / rate); }
    if (field("progress")) { field("progress").value = Math.min(100, Math.round(100 * status.admitted_up_to / position)); }
    if (field("paused")) { field("paused").hidden = !status.paused; }
    return true;
  }
  function tick() {
    fetch(root.dataset.statusUrl, { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) { if (!status || show(status)) { schedule(); } })
      .catch(schedule);
  }
  function schedule() { window.setTimeout(tick, poll * (0.8 + 0.4 * Math.random())); }
  tick();
})();
