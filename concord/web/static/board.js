// The board's live updates: server-sent events from /board/events; on a change, the
// part of the page marked data-live is fetched again and replaced (no reload). Without
// JavaScript the page still works: reload it.
(function () {
  "use strict";
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) { return; }
  var status = document.getElementById("live-status");
  var pending = null;
  function refresh() {
    pending = null;
    fetch(live.getAttribute("data-live"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        live.innerHTML = html;
        live.setAttribute("data-updated", String(Date.now()));
        if (status) { status.textContent = status.getAttribute("data-updated-text"); }
      })
      .catch(function () { /* the next change tries again */ });
  }
  var source = new EventSource("/board/events");
  source.addEventListener("change", function () {
    if (pending === null) { pending = setTimeout(refresh, 250); }
  });
  source.addEventListener("open", function () {
    if (status) { status.textContent = status.getAttribute("data-live-text"); }
  });
})();
