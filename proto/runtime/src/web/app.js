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

// Keys for a table marked data-keys (the SOC console's triage queue): j/k select the next or
// previous row (tr[data-row]), Enter opens its a[data-open], and a key named by a form's
// data-key in the selected row submits that form with its button (a ack, m assign to me,
// e escalate); c focuses the close form's verdict, which Enter then submits. Keys typed in
// a field are the field's. The selection follows its row across live refreshes.
(function () {
  var table = document.querySelector('table[data-keys]');
  if (!table) return;
  var selected = null;
  function rows() { return Array.prototype.slice.call(table.querySelectorAll('tr[data-row]')); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove('sel'); r.removeAttribute('aria-selected'); });
    if (!row) return;
    row.classList.add('sel');
    row.setAttribute('aria-selected', 'true');
    row.scrollIntoView({ block: 'nearest' });
    selected = row.dataset.id;
  }
  function current() {
    return rows().filter(function (r) { return r.dataset.id === selected; })[0] || null;
  }
  new MutationObserver(function () { select(current()); })
    .observe(table.tBodies[0], { childList: true });
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target && e.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    var all = rows();
    var row = current();
    var at = row ? all.indexOf(row) : -1;
    if (e.key === 'j' || e.key === 'k') {
      var next = all[Math.max(0, Math.min(all.length - 1, at + (e.key === 'j' ? 1 : -1)))];
      select(next || null);
      e.preventDefault();
      return;
    }
    if (!row) return;
    if (e.key === 'Enter') {
      var open = row.querySelector('a[data-open]');
      if (open) { open.click(); e.preventDefault(); }
      return;
    }
    var form = row.querySelector('form[data-key="' + e.key + '"]');
    if (!form) return;
    e.preventDefault();
    var field = form.querySelector('select');
    if (field) { field.focus(); return; }
    var button = form.querySelector('button');
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  });
})();
