// The one script of socfed's web surfaces (no inline script: the CSP forbids it). Pages work
// without it. On a page with live tables (elements with data-fragment=NAME) and a status line
// (#live), it listens to the server-sent events at #live's data-events and fetches each live
// table's rows again (?fragment=NAME, HTML the server escaped) at most every 200 ms. With
// data-only on #live, only events whose data is that id (or "lagged") refresh the page. When
// the server ends the stream because the session ended, the status line says data-signed-out.
(function () {
  var parts = document.querySelectorAll('[data-fragment]');
  var live = document.getElementById('live');
  if (!parts.length || !live || !live.dataset.events || !window.EventSource) return;
  var only = live.dataset.only;
  var es = new EventSource(live.dataset.events);
  var pending = false;
  es.addEventListener('signed-out', function () {
    es.close();
    live.textContent = live.dataset.signedOut || 'Signed out.';
  });
  function refresh(part) {
    var q = new URLSearchParams(location.search);
    q.set('fragment', part.dataset.fragment);
    return fetch(location.pathname + '?' + q.toString(), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) part.innerHTML = html;
      });
  }
  es.onmessage = function (e) {
    if (only && e.data !== only && e.data !== 'lagged') return;
    if (pending) return;
    pending = true;
    setTimeout(function () {
      pending = false;
      Promise.all(Array.prototype.map.call(parts, refresh)).then(function () {
        live.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
      });
    }, 200);
  };
})();
