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
