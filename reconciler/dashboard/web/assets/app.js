// mcp dashboard: live updates. The server renders every page (html/template
// escapes all values); this script only listens for "change" events on
// /events, fetches the same page again and swaps its <main> for the new one.
// It never builds markup from data: text it sets goes through textContent.
'use strict';
(function () {
  var live = document.getElementById('live');
  var timer = null;
  var inflight = false;
  var again = false;

  function setLive(on, text) {
    if (!live) return;
    live.textContent = text;
    live.dataset.state = on ? 'on' : 'off';
  }

  // Relative times ("3m ago") are rendered by the server and kept current
  // here from their datetime attribute.
  function ago(then, now) {
    var s = Math.max(0, Math.floor((now - then) / 1000));
    if (s < 5) return 'just now';
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm ago';
    if (s < 48 * 3600) return Math.floor(s / 3600) + 'h ago';
    return Math.floor(s / 86400) + 'd ago';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('time[data-ago]').forEach(function (t) {
      var then = Date.parse(t.getAttribute('datetime'));
      if (!isNaN(then)) t.textContent = ago(then, now);
    });
  }

  // swap replaces <main> with the one of a freshly fetched page, keeping
  // keyboard focus and the scroll position where they were.
  function swap(doc) {
    var next = doc.getElementById('main');
    var cur = document.getElementById('main');
    if (!next || !cur) return;
    var active = document.activeElement;
    var key = active && active.dataset ? active.dataset.key : undefined;
    var x = window.scrollX, y = window.scrollY;
    var adopted = document.adoptNode(next);
    cur.replaceWith(adopted);
    if (doc.title) document.title = doc.title;
    if (key) {
      var same = Array.prototype.find.call(adopted.querySelectorAll('[data-key]'), function (el) {
        return el.dataset.key === key;
      });
      if (same) same.focus({ preventScroll: true });
    }
    window.scrollTo(x, y);
    tick();
  }

  function refresh() {
    if (inflight) { again = true; return; }
    inflight = true;
    fetch(location.pathname, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (resp) { return resp.text(); })
      .then(function (text) {
        swap(new DOMParser().parseFromString(text, 'text/html'));
        document.body.dataset.updated = String(Date.now());
      })
      .catch(function () { setLive(false, 'Update failed; retrying'); })
      .then(function () {
        inflight = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  }

  setInterval(tick, 15000);
  if (!window.EventSource) return; // the page still works, without live updates
  setLive(false, 'Connecting…');
  var events = new EventSource('/events');
  events.addEventListener('change', schedule);
  // On every (re)connect the page may have missed changes: fetch it once.
  events.addEventListener('open', function () { setLive(true, 'Live'); schedule(); });
  events.addEventListener('error', function () { setLive(false, 'Reconnecting…'); });
})();
