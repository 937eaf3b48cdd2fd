/* Seat map enhancement: mouse and keyboard selection on the SVG, kept in sync with the plain <select multiple>
 * that the form submits (so the page works without JavaScript), plus the live countdown of the buyer's holds.
 * Keyboard: one seat per map is in the tab order (roving tabindex); arrow keys move between seats and rows,
 * Home/End jump to the row's ends, Enter or Space selects. */
(function () {
  "use strict";

  function initMap(svg) {
    var select = document.getElementById(svg.dataset.select);
    var form = svg.closest("form");
    if (!select || !form) return;
    form.classList.add("js");
    var max = parseInt(svg.dataset.max || "8", 10);
    var seats = Array.prototype.slice.call(svg.querySelectorAll("circle.seat"));
    if (!seats.length) return;
    var options = {};
    Array.prototype.forEach.call(select.options, function (option) { options[option.value] = option; });

    // Rows of seats sorted left to right, for arrow-key movement.
    var rows = {};
    seats.forEach(function (seat) {
      var r = parseInt(seat.dataset.row, 10);
      (rows[r] = rows[r] || []).push(seat);
    });
    var rowKeys = Object.keys(rows).map(Number).sort(function (a, b) { return a - b; });
    rowKeys.forEach(function (r) {
      rows[r].sort(function (a, b) { return a.cx.baseVal.value - b.cx.baseVal.value; });
    });

    var current = seats.find(function (s) { return s.classList.contains("available"); }) || seats[0];
    current.setAttribute("tabindex", "0");

    function focusSeat(seat) {
      if (!seat) return;
      current.setAttribute("tabindex", "-1");
      seat.setAttribute("tabindex", "0");
      current = seat;
      seat.focus();
    }

    function selectedCount() {
      return form.querySelectorAll("select[name=seat_ids] option:checked").length;
    }

    function toggle(seat) {
      if (!seat.classList.contains("available")) return;
      var option = options[seat.dataset.id];
      if (!option) return;
      var on = !option.selected;
      if (on && selectedCount() >= max) {
        announce(form, "You can choose at most " + max + " places.");
        return;
      }
      option.selected = on;
      seat.classList.toggle("selected", on);
      seat.setAttribute("aria-checked", on ? "true" : "false");
      summarise(form);
    }

    svg.addEventListener("click", function (event) {
      var seat = event.target.closest("circle.seat");
      if (!seat) return;
      focusSeat(seat);
      toggle(seat);
    });

    svg.addEventListener("keydown", function (event) {
      var seat = event.target.closest("circle.seat");
      if (!seat) return;
      var r = parseInt(seat.dataset.row, 10);
      var row = rows[r];
      var i = row.indexOf(seat);
      var target = null;
      switch (event.key) {
        case "ArrowRight": target = row[i + 1]; break;
        case "ArrowLeft": target = row[i - 1]; break;
        case "Home": target = row[0]; break;
        case "End": target = row[row.length - 1]; break;
        case "ArrowUp":
        case "ArrowDown": {
          var k = rowKeys.indexOf(r) + (event.key === "ArrowDown" ? 1 : -1);
          if (k >= 0 && k < rowKeys.length) target = nearest(rows[rowKeys[k]], seat.cx.baseVal.value);
          break;
        }
        case "Enter":
        case " ":
          event.preventDefault();
          toggle(seat);
          return;
        default:
          return;
      }
      event.preventDefault();
      focusSeat(target);
    });

    // Options chosen in the list (e.g. before the script ran) show on the map too.
    select.addEventListener("change", function () {
      seats.forEach(function (seat) {
        var option = options[seat.dataset.id];
        var on = !!(option && option.selected);
        seat.classList.toggle("selected", on);
        seat.setAttribute("aria-checked", on ? "true" : "false");
      });
      summarise(form);
    });
  }

  function nearest(row, x) {
    var best = row[0];
    row.forEach(function (seat) {
      if (Math.abs(seat.cx.baseVal.value - x) < Math.abs(best.cx.baseVal.value - x)) best = seat;
    });
    return best;
  }

  function announce(form, text) {
    var summary = document.querySelector('[data-summary-for="' + form.id + '"]');
    if (summary) summary.textContent = text;
  }

  function summarise(form) {
    var chosen = form.querySelectorAll("svg.seatmap circle.seat.selected");
    if (!chosen.length) {
      announce(form, "Select seats on the map, then hold them.");
      return;
    }
    var total = 0;
    var labels = [];
    Array.prototype.forEach.call(chosen, function (seat) {
      total += parseFloat(seat.dataset.price || "0");
      labels.push(seat.dataset.label);
    });
    announce(form, "Selected " + chosen.length + ": " + labels.join(", ") + " — " + total.toFixed(2) + " credits.");
  }

  function initForm(form) {
    form.addEventListener("submit", function (event) {
      if (!form.querySelectorAll("select[name=seat_ids] option:checked").length) {
        event.preventDefault();
        announce(form, "Select at least one seat first.");
      }
    });
  }

  function initCountdown(panel) {
    var expires = Date.parse(panel.dataset.expiresAt);
    var label = panel.querySelector(".countdown");
    if (!label || isNaN(expires)) return;
    function tick() {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      label.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0) {
        panel.classList.add("expired");
        label.textContent = "0:00 — your hold has expired";
        var pay = document.getElementById("pay-button");
        if (pay) pay.disabled = true;
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  document.querySelectorAll("svg.seatmap").forEach(initMap);
  document.querySelectorAll("form.seat-pick-form").forEach(initForm);
  document.querySelectorAll("[data-expires-at]").forEach(initCountdown);
})();
