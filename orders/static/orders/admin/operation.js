// Polls the operation's JSON and redraws the bar and the figures until the operation is no longer live.
(function () {
  "use strict";
  const root = document.querySelector(".operation");
  if (!root || root.dataset.live !== "1") return;
  const every = Math.max(1, Number(root.dataset.pollSeconds || 1)) * 1000;
  const set = (name, text) => { const el = root.querySelector(`[data-field="${name}"]`); if (el) el.textContent = text; };
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate || ((text, values) => text.replace("%(seconds)s", values.seconds));
  const number = (n) => Number(n).toLocaleString(document.documentElement.lang || "en");
  function draw(state) {
    set("status_label", state.status_label);
    set("done", number(state.done));
    set("total", number(state.total));
    set("percent", state.percent);
    set("rate", state.rate);
    set("eta", state.eta_seconds === null ? "—" : interpolate(gettext("about %(seconds)s s"), { seconds: state.eta_seconds }, true));
    set("errors", state.errors);
    set("error_detail", state.error_detail || "");
    const result = Object.entries(state.result || {}).map(([k, v]) => `${k}: ${number(v)}`).join(", ");
    set("result", result || "—");
    const bar = root.querySelector(".operation-bar");
    bar.setAttribute("aria-valuenow", state.percent);
    bar.querySelector(".operation-bar-fill").style.width = `${state.percent}%`;
    root.dataset.live = state.live ? "1" : "0";
  }
  async function poll() {
    try {
      const response = await fetch(root.dataset.pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) draw(await response.json());
    } catch (error) {
      // A lost request is retried at the next tick.
    }
    if (root.dataset.live === "1") setTimeout(poll, every);
  }
  setTimeout(poll, every);
})();
