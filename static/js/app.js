// Progressive enhancement only: every page works without this file.

// --- Timelines and records --------------------------------------------------------
// Times: the server prints UTC in <time class="localtime" datetime="...">; show them in
// the viewer's own time zone (the UTC text stays as the tooltip). Runs on page load and
// on every fragment HTMX swaps in (filters, infinite scroll).
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });

  function localize(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("time.localtime[datetime]:not([data-localized])").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      el.title = el.textContent;
      el.textContent = format.format(moment);
      el.setAttribute("data-localized", "");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:load", function (evt) { localize(evt.detail.elt.parentNode || document); });

  // A bad timeline filter answers 400 with its reason inside the results block: swap it
  // in like a normal answer, so the reader sees why instead of nothing happening.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (evt.detail.xhr.status === 400 && target && target.id === "timeline-results") {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
})();

// Dates: the server writes <time class="localtime" datetime="ISO">UTC text</time>;
// show them in the reader's own time zone, keeping the UTC value as a tooltip.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });

  function localiseTimes(root) {
    var nodes = (root || document).querySelectorAll("time.localtime[datetime]");
    nodes.forEach(function (node) {
      if (node.dataset.localised) { return; }
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      node.title = node.textContent.trim();
      node.textContent = format.format(moment);
      node.dataset.localised = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localiseTimes(document); });
  // HTMX swaps in new fragments (search results, next pages): localise those too.
  document.addEventListener("htmx:load", function (event) { localiseTimes(event.target); });
}());
