// Gate scan page: camera scanning with the vendored jsQR, and fetch-based submits that keep the camera running.
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return String(values[key]); });
  };
  var form = document.getElementById("scan-form");
  var box = document.getElementById("gate-result");
  var tokenField = document.getElementById("gate-token");
  var busy = false, lastCode = "", lastAt = 0;

  function show(o) {
    box.className = "gate-result " + (o.css || "refuse");
    box.dataset.result = o.result || "";
    box.innerHTML = "";
    function line(cls, text) { if (!text) return; var d = document.createElement("div"); d.className = cls; d.textContent = text; box.appendChild(d); }
    line("headline", o.headline); line("seat", o.seat); line("holder", o.holder); line("detail", o.detail);
    var li = document.createElement("li");
    li.innerHTML = "";
    var span = document.createElement("span"); span.className = o.result || ""; span.textContent = o.headline;
    li.appendChild(span); li.appendChild(document.createTextNode(" · " + (o.at || new Date().toTimeString().slice(0, 8)) + (o.detail ? " · " + o.detail : "")));
    var list = document.getElementById("recent-list");
    var placeholder = list.querySelector(".placeholder");
    if (placeholder) { placeholder.remove(); }
    list.insertBefore(li, list.firstChild);
    if (navigator.vibrate) { navigator.vibrate(o.admitted ? 80 : [200, 80, 200]); }
  }

  function submit(code) {
    if (busy) return;
    busy = true;
    var data = new FormData(form);
    data.set("token", code);
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (o) { show(o); tokenField.value = ""; })
      .catch(function () { show({css: "refuse", headline: gettext("Network error"), detail: gettext("Check the connection and scan again.")}); })
      .then(function () { busy = false; });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var code = tokenField.value.trim();
    if (!code) { show({css: "refuse", headline: gettext("No code"), detail: gettext("Scan or paste a code.")}); return; }
    submit(code);
  });

  // Camera: getUserMedia + canvas frames decoded by jsQR. Only on secure origins (https or localhost).
  var video = document.getElementById("gate-video"), canvas = document.getElementById("gate-canvas");
  var card = document.getElementById("camera-card"), status = document.getElementById("camera-status");
  var startBtn = document.getElementById("camera-start"), stopBtn = document.getElementById("camera-toggle");
  var stream = null;
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.jsQR)) { return; }
  startBtn.hidden = false;

  function tick() {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", {willReadFrequently: true});
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(img.data, img.width, img.height, {inversionAttempts: "dontInvert"});
      var now = Date.now();
      // The same code stays in front of the camera for a while: scan it once per 3 s, not 30 times a second.
      if (found && found.data && (found.data !== lastCode || now - lastAt > 3000)) {
        lastCode = found.data; lastAt = now; submit(found.data);
      }
    }
    requestAnimationFrame(tick);
  }
  function start() {
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (s) {
      stream = s; video.srcObject = s; video.play(); card.hidden = false; startBtn.hidden = true;
      status.textContent = gettext("Point the camera at the ticket's QR code."); requestAnimationFrame(tick);
    }).catch(function (err) {
      status.textContent = ""; show({css: "refuse", headline: gettext("No camera"), detail: interpolate(gettext("Camera unavailable (%(reason)s); paste codes instead."), {reason: err.name}, true)});
    });
  }
  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null; card.hidden = true; startBtn.hidden = false;
  }
  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
})();
