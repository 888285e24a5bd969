/*
 * The editors' console, enhanced: every page works without this script.
 * - The article page highlights the sentence being heard (its row) and, where the
 *   browser has the CSS Custom Highlight API, the phrase inside it, from the same WebVTT
 *   cues the public player uses (cue "s3" is sentence 3; <00:00:11.208> starts a phrase).
 * - A queued or running article's status is asked for every few seconds (short polling)
 *   and announced in its live region until the reading ends.
 * - After a lexicon preview or save, focus moves to the result so it is read out.
 */
(function () {
  'use strict';

  var POLL_MS = 2000;
  var POLL_LIMIT_MS = 15 * 60 * 1000;

  function stamp(text) {
    var parts = text.split(':');
    return parseInt(parts[0], 10) * 3600 + parseInt(parts[1], 10) * 60 + parseFloat(parts[2]);
  }

  function unescapeCue(text) {
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }

  /* The phrases of a cue: [{start, text}], from its timestamp tags. */
  function phrasesOf(cue) {
    var out = [];
    var re = /<(\d\d:\d\d:\d\d\.\d\d\d)>/g;
    var last = 0;
    var start = cue.startTime;
    var m;
    while ((m = re.exec(cue.text)) !== null) {
      out.push({ start: start, text: unescapeCue(cue.text.slice(last, m.index)) });
      start = stamp(m[1]);
      last = re.lastIndex;
    }
    out.push({ start: start, text: unescapeCue(cue.text.slice(last)) });
    return out;
  }

  /* Text nodes of a cell, without the hidden explanations of its marks. */
  function textNodes(cell) {
    var nodes = [];
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        return node.parentElement && node.parentElement.closest('.tip')
          ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  /* Ranges over the cell's own text (never its hidden explanations) covering phrase k. */
  function rangesFor(cell, phrases, k) {
    var nodes = textNodes(cell);
    var whole = nodes.map(function (n) { return n.data; }).join('');
    var at = 0;
    var found = -1;
    for (var i = 0; i <= k; i++) {
      var piece = phrases[i].text.trim();
      if (!piece) continue;
      found = whole.indexOf(piece, at);
      if (found < 0) return [];
      at = found + piece.length;
    }
    if (found < 0) return [];
    var ranges = [];
    var offset = 0;
    for (var j = 0; j < nodes.length; j++) {
      var len = nodes[j].data.length;
      var from = Math.max(found, offset);
      var to = Math.min(at, offset + len);
      if (from < to) {
        var range = document.createRange();
        range.setStart(nodes[j], from - offset);
        range.setEnd(nodes[j], to - offset);
        ranges.push(range);
      }
      offset += len;
    }
    return ranges;
  }

  function follow(audio) {
    var track = audio.textTracks && audio.textTracks[0];
    if (!track) return;
    track.mode = 'hidden';
    var current = null;
    var highlights = window.CSS && CSS.highlights && window.Highlight ? CSS.highlights : null;

    function update() {
      var cue = track.activeCues && track.activeCues[0];
      var row = cue ? document.querySelector('tr[data-cue="' + cue.id + '"]') : null;
      if (row !== current) {
        if (current) current.classList.remove('current');
        if (row) row.classList.add('current');
        current = row;
      }
      if (!highlights) return;
      if (!cue || !row) { highlights.delete('console-phrase'); return; }
      var phrases = phrasesOf(cue);
      var k = 0;
      for (var i = 0; i < phrases.length; i++) if (phrases[i].start <= audio.currentTime) k = i;
      var ranges = rangesFor(row.querySelector('[data-side="written"]'), phrases, k);
      if (ranges.length) {
        var highlight = new Highlight();
        ranges.forEach(function (range) { highlight.add(range); });
        highlights.set('console-phrase', highlight);
      } else {
        highlights.delete('console-phrase');
      }
    }
    track.addEventListener('cuechange', update);
    audio.addEventListener('timeupdate', update);
    audio.addEventListener('ended', function () {
      if (current) current.classList.remove('current');
      current = null;
      if (highlights) highlights.delete('console-phrase');
    });
  }

  function poll(region) {
    var url = region.getAttribute('data-progress-url');
    var began = Date.now();
    var wasBusy = false;
    function ask() {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (answer) {
          if (!answer.ok) throw new Error(String(answer.status));
          return answer.json();
        })
        .then(function (state) {
          region.textContent = state.text;
          region.className = 'status status-' + state.status;
          region.setAttribute('data-status', state.status);
          if (state.busy) wasBusy = true;
          if (state.busy && Date.now() - began < POLL_LIMIT_MS) {
            window.setTimeout(ask, POLL_MS);
          } else if (wasBusy && state.status === 'ready') {
            region.textContent = 'Đã đọc xong. ';
            var link = document.createElement('a');
            link.href = window.location.pathname;
            link.textContent = 'Tải lại trang để nghe bản mới';
            region.appendChild(link);
          }
        })
        .catch(function () {
          region.textContent = 'Không lấy được trạng thái; hãy tải lại trang.';
        });
    }
    ask();
  }

  /* The list: rows still queued or being read ask for their progress until they end. */
  function pollRows(rows, announcer) {
    var began = Date.now();
    var pending = rows.slice(0, 25);
    function ask() {
      var asks = pending.map(function (row) {
        var cell = row.querySelector('[data-progress]');
        var link = row.querySelector('a');
        return fetch(link.getAttribute('href') + '/progress', {
          credentials: 'same-origin', headers: { Accept: 'application/json' }
        })
          .then(function (answer) { return answer.ok ? answer.json() : null; })
          .then(function (state) {
            if (!state) return false;
            cell.textContent = state.text;
            cell.className = 'status status-' + state.status;
            row.setAttribute('data-status', state.status);
            if (!state.busy && announcer) {
              announcer.textContent = 'Bài ' + link.textContent + ': ' + state.text + '.';
            }
            return state.busy;
          })
          .catch(function () { return false; });
      });
      Promise.all(asks).then(function (busy) {
        pending = pending.filter(function (_, i) { return busy[i]; });
        if (pending.length && Date.now() - began < POLL_LIMIT_MS) window.setTimeout(ask, POLL_MS);
      });
    }
    ask();
  }

  function start() {
    var audio = document.getElementById('am-thanh');
    if (audio) follow(audio);
    var region = document.getElementById('tien-do');
    if (region) {
      var status = region.getAttribute('data-status');
      var queued = /[?&]queued=1/.test(window.location.search);
      if (queued || status === 'queued' || status === 'synthesising') poll(region);
    }
    var busyRows = Array.prototype.slice.call(
      document.querySelectorAll('tr[data-status="queued"], tr[data-status="synthesising"]'));
    if (busyRows.length) pollRows(busyRows, document.getElementById('thong-bao'));
    var result = document.querySelector('[data-focus]');
    if (result) result.focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
