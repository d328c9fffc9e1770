// Progressive enhancement only: every page works without this file.

// Error fragments: for HTMX requests the server answers errors (400, 403, 404, 409, 500)
// with a short `.error-fragment` (a bad timeline filter: the results block holding one).
// htmx drops 4xx/5xx bodies by default; swap those in so the reader sees why.
document.addEventListener("htmx:beforeSwap", function (evt) {
  "use strict";
  var xhr = evt.detail.xhr;
  if (xhr.status >= 400 && xhr.responseText.indexOf("error-fragment") !== -1) {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});

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
