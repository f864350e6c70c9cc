// The one script of socfed's web surfaces (no inline script: the CSP forbids it). Pages work
// without it. On a page with a live table (tbody#rows) and a status line (#live), it listens
// to the server-sent events at #live's data-events and fetches the table's rows again
// (?fragment=rows, HTML the server escaped) at most every 200 ms; when the server ends the
// stream because the session ended, the status line says data-signed-out.
(function () {
  var rows = document.getElementById('rows');
  var live = document.getElementById('live');
  if (!rows || !live || !live.dataset.events || !window.EventSource) return;
  var es = new EventSource(live.dataset.events);
  var pending = false;
  es.addEventListener('signed-out', function () {
    es.close();
    live.textContent = live.dataset.signedOut || 'Signed out.';
  });
  es.onmessage = function () {
    if (pending) return;
    pending = true;
    setTimeout(function () {
      pending = false;
      var q = new URLSearchParams(location.search);
      q.set('fragment', 'rows');
      fetch(location.pathname + '?' + q.toString(), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) {
            rows.innerHTML = html;
            live.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
          }
        });
    }, 200);
  };
})();
