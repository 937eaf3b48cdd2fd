/* Seat map enhancement: mouse and keyboard selection on the SVG, kept in sync with the plain <select multiple>
 * that the form submits (so the page works without JavaScript), zoom inside the map's own box (buttons, a tap on a
 * zoomed-out map, two-finger pinch), the sticky bar's summary, the live countdown of the buyer's holds, and live
 * availability: every POLL seconds the page asks which seats of its maps changed since its last answer (version) and
 * redraws them; a chosen seat someone else takes is unchosen and named.
 * Keyboard: one seat per map is in the tab order (roving tabindex); arrow keys move between seats and rows,
 * Home/End jump to the row's ends, Enter or Space selects. */
(function () {
  "use strict";
  // Strings in the page's language from Django's JavaScript catalog (/jsi18n/, loaded before this file); English
  // when the catalog is absent.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return String(values[key]); });
  };
  // An amount with two decimals and the language's decimal separator (get_format from the catalog).
  function formatAmount(value) {
    var separator = window.get_format ? window.get_format("DECIMAL_SEPARATOR") : ".";
    return value.toFixed(2).replace(".", separator);
  }

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
        announce(form, interpolate(gettext("You can choose at most %(max)s places."), {max: max}, true));
        return;
      }
      option.selected = on;
      seat.classList.toggle("selected", on);
      seat.setAttribute("aria-checked", on ? "true" : "false");
      summarise(form);
    }

    var zoom = initZoom(svg);

    svg.addEventListener("click", function (event) {
      // Zoomed out far, a seat is too small to aim at: the tap zooms in around that point instead.
      if (zoom && zoom.tooSmall()) {
        zoom.zoomAt(1, event.clientX, event.clientY);
        return;
      }
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

    seats.forEach(function (seat) {
      live.seats[seat.dataset.id] = { seat: seat, select: select, options: options, form: form, fill: svg.dataset.fill };
    });
    if (svg.dataset.changesUrl && svg.dataset.section) {
      live.url = svg.dataset.changesUrl;
      live.sections.push(svg.dataset.section);
      var version = parseInt(svg.dataset.version, 10);
      if (!isNaN(version) && (live.version === null || version < live.version)) live.version = version;
    }

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

  // Zoom by resizing the SVG inside its scrolling box: the page never gets wider, the map scrolls within its frame.
  var MIN_TAP_PITCH = 16; // px between seat centres below which a tap zooms instead of choosing

  function initZoom(svg) {
    var wrap = svg.parentElement;
    var tools = document.querySelector('[data-zoom-for="' + wrap.id + '"]');
    var width = parseFloat(svg.getAttribute("width"));
    var height = parseFloat(svg.getAttribute("height"));
    var pitch = parseFloat(svg.dataset.pitch || "24");
    if (!wrap.id || !tools || !width || !height) return null;
    tools.hidden = false;
    var scale = 1;

    function fit() { return Math.min(1, (wrap.clientWidth - 2) / width); }

    function apply(next, clientX, clientY) {
      next = Math.max(fit(), Math.min(2, next));
      var box = wrap.getBoundingClientRect();
      var px = clientX === undefined ? box.width / 2 : clientX - box.left;
      var py = clientY === undefined ? box.height / 2 : clientY - box.top;
      var contentX = (wrap.scrollLeft + px) / scale;
      var contentY = (wrap.scrollTop + py) / scale;
      scale = next;
      svg.setAttribute("width", String(Math.round(width * scale)));
      svg.setAttribute("height", String(Math.round(height * scale)));
      wrap.scrollLeft = contentX * scale - px;
      wrap.scrollTop = contentY * scale - py;
      wrap.classList.toggle("zoomed-out", pitch * scale < MIN_TAP_PITCH);
    }

    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button) return;
      var how = button.dataset.zoom;
      apply(how === "fit" ? fit() : scale * (how === "in" ? 1.5 : 1 / 1.5));
    });

    // Two-finger pinch on phones, around the fingers' midpoint; one finger still scrolls the box.
    var pinch = null;
    function spread(touches) {
      return Math.hypot(touches[0].clientX - touches[1].clientX, touches[0].clientY - touches[1].clientY);
    }
    wrap.addEventListener("touchstart", function (event) {
      if (event.touches.length === 2) pinch = { distance: spread(event.touches), scale: scale };
    }, { passive: true });
    wrap.addEventListener("touchmove", function (event) {
      if (!pinch || event.touches.length !== 2) return;
      event.preventDefault();
      var midX = (event.touches[0].clientX + event.touches[1].clientX) / 2;
      var midY = (event.touches[0].clientY + event.touches[1].clientY) / 2;
      apply(pinch.scale * spread(event.touches) / pinch.distance, midX, midY);
    }, { passive: false });
    wrap.addEventListener("touchend", function (event) { if (event.touches.length < 2) pinch = null; });

    // A mouse drags the map around (touch pans natively); a drag that moved is not a click on a seat.
    var drag = null;
    wrap.addEventListener("pointerdown", function (event) {
      if (event.pointerType !== "mouse" || event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, left: wrap.scrollLeft, top: wrap.scrollTop, moved: false };
    });
    wrap.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 6) return;
      drag.moved = true;
      wrap.classList.add("panning");
      wrap.scrollLeft = drag.left - dx;
      wrap.scrollTop = drag.top - dy;
    });
    function endDrag() {
      if (drag && drag.moved) {
        // Swallow the click that ends a drag.
        wrap.addEventListener("click", function (event) { event.stopPropagation(); }, { capture: true, once: true });
      }
      drag = null;
      wrap.classList.remove("panning");
    }
    wrap.addEventListener("pointerup", endDrag);
    wrap.addEventListener("pointerleave", function () { drag = null; wrap.classList.remove("panning"); });
    // Ctrl + wheel (and a trackpad's pinch, which browsers send as one) zooms around the pointer.
    wrap.addEventListener("wheel", function (event) {
      if (!event.ctrlKey) return;
      event.preventDefault();
      apply(scale * Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
    }, { passive: false });

    if (width > wrap.clientWidth) apply(fit());
    return {
      tooSmall: function () { return pitch * scale < MIN_TAP_PITCH; },
      zoomAt: function (next, x, y) { apply(next, x, y); }
    };
  }

  // Live availability: one poll per page for all its maps (docs/BUYER.md, "Live availability").
  var live = { url: null, sections: [], version: null, seats: {} };
  var STATES = ["available", "held", "sold", "blocked", "mine"];
  var STATE_WORDS = { available: "available", held: "held", sold: "sold", blocked: "blocked", mine: "held by you" };

  function stateOf(status) {
    if (status === "MINE") return "mine";
    if (status === "AVAILABLE") return "available";
    if (status === "HELD") return "held";
    if (status === "BLOCKED") return "blocked";
    return "sold";
  }

  // Redraw one seat in its new state; returns its label when it was chosen here and is now gone.
  function redraw(entry, status) {
    var seat = entry.seat;
    var state = stateOf(status);
    if (seat.classList.contains(state)) return null;
    // The answer is the same for every viewer (shared through the proxy's cache): a hold of this buyer comes back as
    // HELD, and the seat this page drew as theirs stays theirs.
    if (state === "held" && seat.classList.contains("mine")) return null;
    var lost = seat.classList.contains("selected") && state !== "available";
    STATES.forEach(function (name) { seat.classList.remove(name); });
    seat.classList.remove("selected");
    seat.classList.add(state);
    seat.setAttribute("aria-checked", "false");
    if (state === "available") {
      seat.setAttribute("fill", entry.fill);
      seat.removeAttribute("aria-disabled");
    } else {
      seat.removeAttribute("fill");
      seat.setAttribute("aria-disabled", "true");
    }
    var label = seat.getAttribute("aria-label") || "";
    seat.setAttribute("aria-label",
      label.replace(/, (available|held by you|held|sold|blocked)(, accessible)?$/, ", " + STATE_WORDS[state] + "$2"));
    var option = entry.options[seat.dataset.id];
    if (state === "available" && !option) {
      option = new Option(label.split(", ").slice(0, 2).join(" · "), seat.dataset.id);
      entry.select.appendChild(option);
      entry.options[seat.dataset.id] = option;
    }
    if (option) {
      option.disabled = state !== "available";
      if (state !== "available") option.selected = false;
    }
    return lost ? seat.dataset.label : null;
  }

  function startLive() {
    if (!live.url || live.version === null || !window.fetch) return;
    var delay = 2000;
    function poll() {
      if (document.hidden) { window.setTimeout(poll, delay); return; }
      var query = "?since=" + live.version + live.sections.map(function (id) { return "&section=" + id; }).join("");
      fetch(live.url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (body) {
          live.version = body.version;
          delay = (body.poll_seconds || 2) * 1000;
          var lost = {};
          body.seats.forEach(function (change) {
            var entry = live.seats[change.id];
            if (!entry) return;
            var label = redraw(entry, change.status);
            if (label) (lost[entry.form.id] = lost[entry.form.id] || []).push(label);
          });
          Object.keys(lost).forEach(function (formId) {
            var form = document.getElementById(formId);
            summarise(form);
            announce(form, interpolate(gettext("Just taken by someone else: %(seats)s. Choose another seat."), {seats: lost[formId].join(", ")}, true));
          });
        })
        .catch(function () { delay = Math.min(delay * 2, 30000); })
        .then(function () { window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
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
    var total = 0;
    var labels = [];
    Array.prototype.forEach.call(chosen, function (seat) {
      total += parseFloat(seat.dataset.price || "0");
      labels.push(seat.dataset.label);
    });
    updateBar(chosen.length, total);
    if (!chosen.length) {
      announce(form, gettext("Select seats on the map, then hold them."));
      return;
    }
    announce(form, interpolate(gettext("Selected %(count)s: %(seats)s — %(total)s credits."), {count: chosen.length, seats: labels.join(", "), total: formatAmount(total)}, true));
  }

  // The sticky bar: "3 seats · 195.00" beside its Hold button; while holding, Hold shows only with a selection.
  function updateBar(count, total) {
    var bar = document.getElementById("buy-bar");
    if (!bar) return;
    var text = bar.querySelector("[data-bar-selection]");
    var hold = bar.querySelector(".bar-hold");
    if (text) {
      text.textContent = count
        ? interpolate(ngettext("%(count)s seat", "%(count)s seats", count), {count: count}, true) + " · " + formatAmount(total)
        : (bar.classList.contains("holding") ? gettext("Add seats on the map") : gettext("Choose seats on the map"));
    }
    if (hold && hold.hasAttribute("data-hide-when-empty")) hold.hidden = !count;
  }

  function initForm(form) {
    form.addEventListener("submit", function (event) {
      if (!form.querySelectorAll("select[name=seat_ids] option:checked").length) {
        event.preventDefault();
        announce(form, gettext("Select at least one seat first."));
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
        expire(panel, label);
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  // The sentence around the countdown gives way to one that says what happened; nothing can be paid any more.
  function expire(panel, label) {
    panel.classList.add("expired");
    var sentence = label.closest(".hold-timer, .buy-bar-holds") || label;
    sentence.textContent = panel.dataset.expiredText || gettext("Your hold has expired.");
    panel.querySelectorAll(".bar-checkout").forEach(function (link) { link.hidden = true; });
    ["pay-button", "pay-card-button"].forEach(function (id) {
      var pay = document.getElementById(id);
      if (pay) pay.disabled = true;
    });
  }

  document.querySelectorAll("svg.seatmap").forEach(initMap);
  document.querySelectorAll("form.seat-pick-form").forEach(summarise);
  startLive();
  document.querySelectorAll("form.seat-pick-form").forEach(initForm);
  document.querySelectorAll("[data-expires-at]").forEach(initCountdown);
})();
