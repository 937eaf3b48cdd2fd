/* The seat map: draws each map's seats from the JSON beside it, mouse and keyboard selection on the SVG (each chosen
 * seat a hidden seat_ids input of the form; without JavaScript the page links to the same seats as a plain list
 * instead), zoom inside the map's own box (buttons, a tap on a zoomed-out map, two-finger pinch), the sticky bar's
 * summary, the live countdown of the buyer's holds, and live availability: the page subscribes to its maps'
 * sections (server-sent events pushed by the edge) or, where no edge pushes them, asks each second which seats
 * changed since its last answer (version); either way it redraws them, and a chosen seat someone else takes is
 * unchosen and named.
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

  // The seats come as JSON beside their map (one array per field; orders/views/event_page.py, _seat_data) and are
  // drawn SLICE at a time, one slice per animation frame, so the page paints first and stays responsive while a
  // 3,200-seat section fills in. Each seat is a <circle role="checkbox"> named short ("A12"); the seat with the
  // roving focus carries the full name ("Row A seat 12, 45.00 credits, available, accessible").
  var SLICE = 800;
  var STATE_CODES = { a: "available", h: "held", s: "sold", b: "blocked", m: "mine" };

  function stateWord(state) {
    switch (state) {
      case "available": return gettext("available");
      case "held": return gettext("held");
      case "sold": return gettext("sold");
      case "blocked": return gettext("blocked");
      default: return gettext("held by you");
    }
  }

  function chosenInputs(form) {
    return form.querySelectorAll("input[type=hidden][name=seat_ids]");
  }

  function initMap(svg) {
    var form = svg.closest("form");
    var source = document.getElementById(svg.dataset.seats);
    var layer = svg.querySelector("g.seats");
    var ringLayer = svg.querySelector("g.seat-rings");
    if (!form || !source || !layer || !ringLayer) return;
    var data = JSON.parse(source.textContent);
    var count = data.id.length;
    if (!count) return;
    form.classList.add("js");
    var max = parseInt(svg.dataset.max || "8", 10);
    var states = new Array(count);
    for (var s = 0; s < count; s++) states[s] = STATE_CODES[data.state.charAt(s)];
    var accessible = {};
    data.accessible.forEach(function (i) { accessible[i] = true; });
    var els = new Array(count);
    var chosen = {}; // seat index -> its hidden input in the form
    var drawn = 0;

    // Rows of seat indices sorted left to right, for arrow-key movement; built at the first key press.
    var rows = null;
    var rowKeys = null;
    function buildRows() {
      rows = {};
      for (var n = 0; n < count; n++) (rows[data.row[n]] = rows[data.row[n]] || []).push(n);
      rowKeys = Object.keys(rows).map(Number).sort(function (a, b) { return a - b; });
      rowKeys.forEach(function (r) { rows[r].sort(function (a, b) { return data.x[a] - data.x[b]; }); });
    }

    var current = states.indexOf("available");
    if (current < 0) current = 0;

    function shortName(i) { return data.rows[data.row[i]] + data.number[i]; }
    function priceOf(i) { return data.prices[data.price[i]]; }
    function fullName(i) {
      var name = interpolate(gettext("Row %(row)s seat %(number)s, %(price)s credits, %(state)s"), {
        row: data.rows[data.row[i]], number: data.number[i], price: formatAmount(parseFloat(priceOf(i))),
        state: stateWord(states[i])
      }, true);
      return accessible[i] ? interpolate(gettext("%(name)s, accessible"), {name: name}, true) : name;
    }

    // Class, checked state and name of a drawn seat from its state (seats not drawn yet get them when drawn).
    function paint(i) {
      var el = els[i];
      if (!el) return;
      var state = states[i];
      el.setAttribute("class", chosen[i] ? "seat " + state + " selected" : "seat " + state);
      el.setAttribute("aria-checked", chosen[i] ? "true" : "false");
      if (state === "available") el.removeAttribute("aria-disabled");
      else el.setAttribute("aria-disabled", "true");
      el.setAttribute("aria-label", i === current ? fullName(i) : shortName(i));
    }

    function escapeText(text) {
      return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
    }
    // A slice of seats as one string the browser parses in one go (far fewer calls than an element at a time); the
    // accessible seats' rings go in the group below the seats.
    function drawUpTo(end) {
      var from = drawn;
      var html = "";
      var rings = "";
      for (var i = from; i < end; i++) {
        var state = states[i];
        html += '<circle cx="' + data.x[i] + '" cy="' + data.y[i] + '" r="' + data.r + '" class="seat ' + state +
          (chosen[i] ? ' selected" aria-checked="true"' : '" aria-checked="false"') +
          (state === "available" ? "" : ' aria-disabled="true"') + (i === current ? ' tabindex="0"' : "") +
          ' role="checkbox" aria-label="' + escapeText(i === current ? fullName(i) : shortName(i)) +
          '" data-id="' + data.id[i] + '"/>';
        if (accessible[i]) {
          rings += '<circle class="seat-ring" cx="' + data.x[i] + '" cy="' + data.y[i] + '" r="' + data.ring + '"/>';
        }
      }
      if (rings) ringLayer.insertAdjacentHTML("beforeend", rings);
      layer.insertAdjacentHTML("beforeend", html);
      var children = layer.children;
      for (var k = from; k < end; k++) {
        els[k] = children[k];
        els[k].seatIndex = k;
      }
      drawn = end;
      if (drawn === count) svg.setAttribute("data-drawn", "");
    }
    function drawSlice() {
      drawUpTo(Math.min(count, drawn + SLICE));
      if (drawn < count) window.requestAnimationFrame(drawSlice);
    }
    // A key or a click before the last slice: draw the rest at once, so every seat can be reached. (No focus
    // listener on the SVG: Chromium would make the SVG itself a tab stop.)
    function drawAll() { if (drawn < count) drawUpTo(count); }

    function focusSeat(i) {
      if (i === undefined || i === null) return;
      drawAll();
      var previous = current;
      current = i;
      if (previous !== i) {
        els[previous].removeAttribute("tabindex");
        paint(previous);
      }
      els[i].setAttribute("tabindex", "0");
      paint(i);
      els[i].focus();
    }

    function choose(i, on) {
      if (on && !chosen[i]) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "seat_ids";
        input.value = data.id[i];
        input.dataset.label = shortName(i);
        input.dataset.price = priceOf(i);
        form.appendChild(input);
        chosen[i] = input;
      } else if (!on && chosen[i]) {
        chosen[i].remove();
        delete chosen[i];
      }
      paint(i);
    }

    function toggle(i) {
      if (states[i] !== "available") return;
      var on = !chosen[i];
      if (on && chosenInputs(form).length >= max) {
        announce(form, interpolate(gettext("You can choose at most %(max)s places."), {max: max}, true));
        return;
      }
      choose(i, on);
      summarise(form);
    }

    // A live change: returns the seat's short name when it was chosen here and is now gone.
    function update(i, status) {
      var state = stateOf(status);
      if (states[i] === state) return null;
      // The answer is the same for every viewer (shared through the proxy's cache): a hold of this buyer comes back
      // as HELD, and the seat this page drew as theirs stays theirs.
      if (state === "held" && states[i] === "mine") return null;
      var lost = !!chosen[i];
      states[i] = state;
      choose(i, false);
      return lost ? shortName(i) : null;
    }

    var zoom = initZoom(svg);

    svg.addEventListener("click", function (event) {
      // Zoomed out far, a seat is too small to aim at: the tap zooms in around that point instead.
      if (zoom && zoom.tooSmall()) {
        zoom.zoomAt(1, event.clientX, event.clientY);
        return;
      }
      var seat = event.target.closest("circle.seat");
      if (!seat || seat.seatIndex === undefined) return;
      focusSeat(seat.seatIndex);
      toggle(seat.seatIndex);
    });

    svg.addEventListener("keydown", function (event) {
      var seat = event.target.closest("circle.seat");
      if (!seat || seat.seatIndex === undefined) return;
      var i = seat.seatIndex;
      if (!rows) buildRows();
      var r = data.row[i];
      var row = rows[r];
      var k = row.indexOf(i);
      var target = null;
      switch (event.key) {
        case "ArrowRight": target = row[k + 1]; break;
        case "ArrowLeft": target = row[k - 1]; break;
        case "Home": target = row[0]; break;
        case "End": target = row[row.length - 1]; break;
        case "ArrowUp":
        case "ArrowDown": {
          var next = rowKeys.indexOf(r) + (event.key === "ArrowDown" ? 1 : -1);
          if (next >= 0 && next < rowKeys.length) target = nearest(rows[rowKeys[next]], data.x[i], data.x);
          break;
        }
        case "Enter":
        case " ":
          event.preventDefault();
          toggle(i);
          return;
        default:
          return;
      }
      event.preventDefault();
      focusSeat(target);
    });

    data.picked.forEach(function (i) { choose(i, true); });
    var index = {};
    for (var d = 0; d < count; d++) index[data.id[d]] = d;
    live.maps.push({ index: index, update: update, form: form });
    if (svg.dataset.changesUrl && svg.dataset.section) {
      live.url = svg.dataset.changesUrl;
      live.streamUrl = svg.dataset.streamUrl || null;
      live.sections.push(svg.dataset.section);
      var version = parseInt(svg.dataset.version, 10);
      if (!isNaN(version) && (live.version === null || version < live.version)) live.version = version;
    }
    drawSlice();
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

  // Live availability: one subscription (or one poll) per page for all its maps (docs/BUYER.md, "Live availability").
  var live = { url: null, streamUrl: null, sections: [], version: null, maps: [], versions: {}, catching: false, catchAgain: false };

  function stateOf(status) {
    if (status === "MINE") return "mine";
    if (status === "AVAILABLE") return "available";
    if (status === "HELD") return "held";
    if (status === "BLOCKED") return "blocked";
    return "sold";
  }

  function applyChanges(seats) {
    var lost = {};
    seats.forEach(function (change) {
      live.maps.forEach(function (map) {
        var i = map.index[change.id];
        if (i === undefined) return;
        var label = map.update(i, change.status);
        if (label) (lost[map.form.id] = lost[map.form.id] || []).push(label);
      });
    });
    Object.keys(lost).forEach(function (formId) {
      var form = document.getElementById(formId);
      summarise(form);
      announce(form, interpolate(gettext("Just taken by someone else: %(seats)s. Choose another seat."), {seats: lost[formId].join(", ")}, true));
    });
  }

  function fetchChanges(sections, since) {
    var query = "?since=" + since + sections.map(function (id) { return "&section=" + id; }).join("");
    return fetch(live.url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (body) { applyChanges(body.seats); return body; });
  }

  function startPolling() {
    var delay = 2000;
    function poll() {
      if (document.hidden) { window.setTimeout(poll, delay); return; }
      fetchChanges(live.sections, live.version)
        .then(function (body) {
          live.version = body.version;
          delay = (body.poll_seconds || 2) * 1000;
        })
        .catch(function () { delay = Math.min(delay * 2, 30000); })
        .then(function () { window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }

  // Pushed changes carry the version they continue from (since): a message that does not follow on from what the
  // map holds for its section (it connected late, reconnected, or missed one) is not enough, and the map asks the
  // poll once for everything since its own version.
  function catchUp() {
    if (live.catching) { live.catchAgain = true; return; }
    live.catching = true;
    live.catchAgain = false;
    var since = Math.min.apply(null, live.sections.map(function (id) { return live.versions[id]; }));
    fetchChanges(live.sections, since)
      .then(function (body) {
        var readAt = body.read_at || body.version;
        live.sections.forEach(function (id) { live.versions[id] = Math.max(live.versions[id], readAt); });
      })
      .catch(function () { /* the next message that does not follow on asks again */ })
      .then(function () {
        live.catching = false;
        if (live.catchAgain) catchUp();
      });
  }

  function startStream() {
    live.sections.forEach(function (id) { live.versions[id] = live.version; });
    var source = new EventSource(live.streamUrl + "?sections=" + live.sections.join(","));
    source.onopen = catchUp;
    source.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      var held = live.versions[message.section];
      if (held === undefined) return;
      if (message.since <= held) {
        applyChanges(message.seats);
        live.versions[message.section] = Math.max(held, message.version);
      } else {
        catchUp();
      }
    };
    // A closed stream (no edge pushes changes here, or it refused the subscription) does not come back: poll.
    // While the browser reconnects a dropped one by itself, readyState is CONNECTING and nothing needs doing.
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;
      live.version = Math.min.apply(null, live.sections.map(function (id) { return live.versions[id]; }));
      startPolling();
    };
  }

  function startLive() {
    if (!live.url || live.version === null || !window.fetch) return;
    if (live.streamUrl && window.EventSource) startStream();
    else startPolling();
  }

  // The seat of a row (indices into xs) nearest to x.
  function nearest(row, x, xs) {
    var best = row[0];
    row.forEach(function (i) {
      if (Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
    });
    return best;
  }

  function announce(form, text) {
    var summary = document.querySelector('[data-summary-for="' + form.id + '"]');
    if (summary) summary.textContent = text;
  }

  function summarise(form) {
    var chosen = chosenInputs(form);
    var total = 0;
    var labels = [];
    Array.prototype.forEach.call(chosen, function (input) {
      total += parseFloat(input.dataset.price || "0");
      labels.push(input.dataset.label);
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
      if (!chosenInputs(form).length) {
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
