/*! Đọc nội dung: read-aloud player for tts-service. MIT licence. No dependencies, no build.
 *
 * Embed:
 *   <script src="https://tts.example.gov.vn/static/player.js" defer></script>
 *   <button type="button" data-tts-read data-tts-target="#noi-dung">Đọc nội dung</button>
 *
 * Button attributes: data-tts-target (CSS selector of the article, default "main, article,
 * body"), data-tts-endpoint (API base URL; default: the origin this script came from),
 * data-tts-title (title for the MP3; default: the article's first h1, else document.title),
 * data-tts-highlight ("auto" | "mark" | "none"), data-tts-scroll ("true" | "false"),
 * data-tts-article (the id of an article registered with the service: its pre-made audio
 * is played instead of reading the page, and the playback is counted in the editors'
 * listening figures, docs/console.md).
 * Elements inside the article marked data-tts-skip (toolbars, share buttons) are not read.
 *
 * The player, its messages and its live region live in shadow roots (player-ui.css), so
 * the page's CSS cannot restyle them; it is a landmark ("Trình đọc bài viết") and docks at
 * the bottom of the window when its place scrolls away. The sentence being read and the
 * phrase inside it (VTT cue timestamps) are highlighted in the page (player.css). A text
 * selection in the article can be read on its own ("Đọc đoạn chọn", Alt+Shift+D); each
 * paragraph gets "Đọc từ đây" while the player is open. Settings are kept per site in
 * localStorage; Media Session gives lock-screen and headset controls.
 *
 * Keyboard, only while focus is inside the player (so they never reach the page or the
 * screen reader's own keys): K play/pause (Space/Enter press the focused button),
 * J back 10 s, L forward 10 s, comma previous sentence, period next sentence; on the seek
 * bar ←/→ 5 s, PageUp/PageDown 30 s, Home/End start/end.
 */
(() => {
  'use strict';
  if (window.ttsPlayer) return;

  const script = document.currentScript;
  const SCRIPT_URL = script && script.src ? new URL(script.src, location.href) : null;
  const SKIP_TAGS = new Set([
    'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'BUTTON', 'SELECT', 'TEXTAREA', 'INPUT',
    'SVG', 'CANVAS', 'AUDIO', 'VIDEO', 'IFRAME', 'OBJECT', 'HEAD',
  ]);
  const KEY_CHAR = /[\p{L}\p{N}]/u;
  const RATES = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const STORE = 'tts-player:';
  const RESUME_MIN_S = 5;
  const RESUME_TTL_MS = 30 * 24 * 3600 * 1000;
  const FIRST_AUDIO_TIMEOUT_MS = 60000;
  // How often a listener whose article waits its turn is told where it stands.
  const QUEUE_POLL_MS = 5000;
  const MIN_PLAYER_PX = 320;
  const MSG = {
    loading: 'Đang tải…',
    playing: 'Đang đọc',
    paused: 'Đã tạm dừng',
    ended: 'Đã đọc xong',
    closed: 'Đã đóng trình đọc',
    busy: 'Hệ thống đọc đang bận, vui lòng thử lại sau.',
    network: 'Không kết nối được với hệ thống đọc. Vui lòng kiểm tra mạng và thử lại.',
    audio: 'Không phát được âm thanh. Vui lòng thử lại sau.',
    empty: 'Không tìm thấy nội dung để đọc.',
    blocked: 'Trình duyệt chưa cho phát âm thanh. Nhấn nút Phát để nghe.',
    otherAudio: 'Đã tạm dừng vì có âm thanh khác đang phát',
    queued: (n) => `Bài đang chờ đến lượt đọc: thứ ${n} trong hàng đợi`,
  };
  const SCHEMES = [
    ['yellow', 'Vàng (mặc định)'],
    ['blue', 'Xanh nhạt'],
    ['contrast', 'Tương phản cao: chữ vàng trên nền đen'],
  ];
  const DEFAULT_SETTINGS = { highlight: true, scheme: 'yellow', enlarge: false };
  const BLOCKS = 'p, li, blockquote, h2, h3, h4, h5, h6, dd, figcaption, td';
  const SELECTION_KEYS = 'Alt+Shift+D';
  const SHORTCUTS = [
    ['K', 'Phát hoặc tạm dừng'],
    ['J', 'Lùi 10 giây'],
    ['L', 'Tiến 10 giây'],
    [',', 'Câu trước'],
    ['.', 'Câu sau'],
    ['← →', 'Trên thanh vị trí: lùi hoặc tiến 5 giây'],
    ['Alt+Shift+D', 'Trong bài, khi đã chọn một đoạn: đọc đoạn chọn'],
    ['Esc', 'Đóng bảng cài đặt'],
  ];
  const ICONS = {
    play: 'M8 5v14l11-7z',
    pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
    prev: 'M6 6h2v12H6zm3.5 6 8.5 6V6z',
    next: 'M16 6h2v12h-2zM6 18l8.5-6L6 6z',
    back: 'M11 18V6l-8.5 6zm.5-6 8.5 6V6z',
    fwd: 'M4 18l8.5-6L4 6zm9-12v12l8.5-6z',
    download: 'M5 20h14v-2H5zM19 9h-4V3H9v6H5l7 7z',
    close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
  };

  // ---------------------------------------------------------------- small helpers

  const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  /** "1:05" or "1:02:03". */
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }

  /** Spoken Vietnamese duration: 65 → "1 phút 5 giây", 240 → "4 phút". */
  function spoken(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const parts = [];
    if (h) parts.push(`${h} giờ`);
    if (m) parts.push(`${m} phút`);
    if (sec || !parts.length) parts.push(`${sec} giây`);
    return parts.join(' ');
  }

  function svgIcon(name) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'tts-icon');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.append(path);
    return svg;
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key in node && !key.includes('-')) node[key] = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    node.append(...children.filter(Boolean));
    return node;
  }

  const storage = {
    get(key) {
      try {
        return JSON.parse(localStorage.getItem(STORE + key));
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(STORE + key, JSON.stringify(value));
      } catch {
        /* private mode or full: the player works without memory */
      }
    },
    remove(key) {
      try {
        localStorage.removeItem(STORE + key);
      } catch {
        /* ignore */
      }
    },
  };

  // ------------------------------------------------------------------ shadow hosts

  const UI_CSS = SCRIPT_URL ? new URL('player-ui.css', SCRIPT_URL).href : '/static/player-ui.css';

  /**
   * Set ``props`` on ``node`` as inline !important declarations: they outrank every page rule.
   * Each is removed first so that it is declared last: after ``all: initial``, a physical
   * property ("bottom") set in place would lose to its logical twin ("inset-block-end").
   */
  function pin(node, props) {
    for (const [name, value] of Object.entries(props)) {
      node.style.removeProperty(name);
      node.style.setProperty(name, value, 'important');
    }
  }

  /**
   * A host element with an open shadow root holding the player's own sheet. Page CSS cannot
   * select anything inside; the sheet's ``:host { all: initial !important }`` stops inherited
   * page styles (colour, font, letter-spacing, text-transform) at the door, and an !important
   * rule of the shadow tree outranks every page rule, !important and inline ones included.
   * Until the sheet has loaded the host stays invisible (``props`` may say otherwise), so
   * nothing unstyled flashes.
   */
  function mount(kind, props = {}) {
    const host = el('div', { 'data-tts-host': kind, 'data-tts-skip': true });
    pin(host, { visibility: 'hidden', ...props });
    const shadow = host.attachShadow({ mode: 'open' });
    const sheet = el('link', { rel: 'stylesheet', href: UI_CSS });
    const shown = () => host.style.removeProperty('visibility');
    sheet.addEventListener('load', shown, { once: true });
    sheet.addEventListener('error', shown, { once: true });
    shadow.append(sheet);
    return { host, shadow };
  }

  // ------------------------------------------------------------ live announcements

  let liveRegion = null;
  function live() {
    if (!liveRegion || !liveRegion.isConnected) {
      // Audible at once, so visible to assistive technology at once: out of sight by position.
      const { host, shadow } = mount('live', {
        position: 'absolute', width: '1px', height: '1px', overflow: 'hidden',
        'clip-path': 'inset(50%)', 'white-space': 'nowrap', visibility: 'visible',
      });
      liveRegion = el('div', {
        class: 'tts-live',
        role: 'status',
        'aria-live': 'polite',
        'aria-atomic': 'true',
      });
      shadow.append(liveRegion);
      document.body.append(host);
    }
    return liveRegion;
  }
  let announceTimer = 0;
  /** Say ``message`` politely; the same message twice in a row is said twice. */
  function announce(message) {
    const region = live();
    region.textContent = '';
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      region.textContent = message;
    }, 120);
  }

  // --------------------------------------------------------------- article text

  function hiddenElement(node) {
    if (SKIP_TAGS.has(node.tagName.toUpperCase())) return true;
    if (node.hidden || node.getAttribute('aria-hidden') === 'true') return true;
    if (node.matches('[data-tts-skip], [data-tts-host]')) return true;
    const style = getComputedStyle(node);
    return style.display === 'none' || style.visibility === 'hidden';
  }

  /** The article's readable text nodes, in order, with block boundaries for the text sent. */
  function collect(root) {
    const nodes = [];
    const blocks = [];
    let current = '';
    const flush = () => {
      const text = current.replace(/\s+/g, ' ').trim();
      if (text) blocks.push(text);
      current = '';
    };
    const walk = (parent) => {
      for (const node of parent.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) {
          current += node.data;
          nodes.push(node);
        } else if (node.nodeType === Node.ELEMENT_NODE && !hiddenElement(node)) {
          if (node.tagName === 'BR') {
            flush();
            continue;
          }
          const block = !getComputedStyle(node).display.startsWith('inline');
          if (block) flush();
          walk(node);
          if (block) flush();
        }
      }
    };
    walk(root);
    flush();
    return { text: blocks.join('\n\n'), nodes };
  }

  /** Letters and digits only, lower case, without tone marks: what cue matching compares. */
  function foldChar(ch) {
    return ch.normalize('NFD').charAt(0).toLowerCase();
  }
  function keyOf(text) {
    let out = '';
    for (const ch of text) if (KEY_CHAR.test(ch)) out += foldChar(ch);
    return out;
  }

  /** Maps the article's key characters back to (text node, offset). */
  class TextIndex {
    constructor(root) {
      this.root = root;
      this.rebuild();
    }

    rebuild() {
      const { nodes } = collect(this.root);
      this.nodes = nodes;
      this.keys = '';
      this.starts = [];
      this.ends = [];
      this.owner = [];
      nodes.forEach((node, n) => {
        const data = node.data;
        let i = 0;
        for (const ch of data) {
          if (KEY_CHAR.test(ch)) {
            for (const k of foldChar(ch)) {
              this.keys += k;
              this.owner.push(n);
              this.starts.push(i);
              this.ends.push(i + ch.length);
            }
          }
          i += ch.length;
        }
      });
    }

    /** The first key position at or after the start of ``range`` (a selection). */
    keyAt(range) {
      for (let i = 0; i < this.keys.length; i++) {
        const node = this.nodes[this.owner[i]];
        try {
          if (range.comparePoint(node, this.starts[i]) >= 0) return i;
        } catch {
          /* a node the range cannot compare (another document): keep looking */
        }
      }
      return 0;
    }

    /** Where ``text`` occurs at or after key position ``from``: [start, end) or null. */
    locate(text, from) {
      const key = keyOf(text);
      if (!key) return null;
      const exact = this.keys.indexOf(key, from);
      if (exact >= 0) return [exact, exact + key.length];
      // Tolerate small differences (a changed word, a missing space): anchor both ends.
      if (key.length < 16) return null;
      const n = Math.min(24, Math.floor(key.length / 3));
      const slack = Math.max(8, Math.round(key.length * 0.2));
      const head = this.keys.indexOf(key.slice(0, n), from);
      if (head < 0) return null;
      const tail = this.keys.indexOf(key.slice(-n), head + Math.max(n, key.length - n - slack));
      if (tail < 0 || tail + n - head > key.length + slack) return null;
      return [head, tail + n];
    }

    /** A DOM Range over key positions [start, end), widened to the cue's edge punctuation. */
    range(span, text) {
      const [a, b] = span;
      if (a >= b || b > this.keys.length) return null;
      const startNode = this.nodes[this.owner[a]];
      const endNode = this.nodes[this.owner[b - 1]];
      if (!startNode.isConnected || !endNode.isConnected) return null;
      let start = this.starts[a];
      let end = this.ends[b - 1];
      const lead = /^[^\p{L}\p{N}\s]*/u.exec(text.trim())[0].length;
      const trail = /[^\p{L}\p{N}\s]*$/u.exec(text.trim())[0].length;
      for (let k = 0; k < lead && start > 0 && !/\s/.test(startNode.data[start - 1]); k++) start--;
      for (let k = 0; k < trail && end < endNode.data.length && !/\s/.test(endNode.data[end]); k++) end++;
      const range = document.createRange();
      range.setStart(startNode, start);
      range.setEnd(endNode, end);
      return range;
    }
  }

  // ------------------------------------------------------------------ highlight

  const HIGHLIGHT = 'tts-current';
  const PHRASE = 'tts-phrase';
  const canHighlight = () => typeof Highlight === 'function' && !!(window.CSS && CSS.highlights);

  /** Shows one sentence as highlighted: CSS Custom Highlight API, else <mark> wrappers. */
  class Highlighter {
    constructor(index, mode) {
      this.index = index;
      this.mode = mode === 'mark' || (mode !== 'none' && !canHighlight()) ? 'mark' : mode;
      if (this.mode !== 'mark' && this.mode !== 'none') this.mode = 'api';
      this.marks = [];
      this.current = null;
    }

    show(span, text) {
      this.clear();
      if (this.mode === 'none' || !span) return null;
      const range = this.index.range(span, text);
      if (!range) return null;
      if (this.mode === 'api') {
        this.current = new Highlight(range);
        CSS.highlights.set(HIGHLIGHT, this.current);
      } else {
        this.wrap(range);
      }
      return range;
    }

    /**
     * Mark the phrase being read inside the sentence (Highlight API only: nesting <mark>s
     * in the fallback would rewrite the page's DOM twice a sentence for little gain).
     */
    showPhrase(span, text) {
      this.clearPhrase();
      if (this.mode !== 'api' || !span) return null;
      const range = this.index.range(span, text);
      if (!range) return null;
      this.phrase = new Highlight(range);
      this.phrase.priority = 1;
      CSS.highlights.set(PHRASE, this.phrase);
      return range;
    }

    clearPhrase() {
      if (this.phrase && CSS.highlights.get(PHRASE) === this.phrase) CSS.highlights.delete(PHRASE);
      this.phrase = null;
    }

    /** Wrap each text-node piece of ``range`` in <mark>; elements and listeners are untouched. */
    wrap(range) {
      const pieces = [];
      for (const node of this.index.nodes) {
        if (!range.intersectsNode(node)) continue;
        const from = node === range.startContainer ? range.startOffset : 0;
        const to = node === range.endContainer ? range.endOffset : node.data.length;
        if (to > from && node.data.slice(from, to).trim()) pieces.push([node, from, to]);
      }
      for (const [node, from, to] of pieces) {
        let middle = node;
        if (from > 0) middle = middle.splitText(from);
        if (to - from < middle.data.length) middle.splitText(to - from);
        const mark = el('mark', { class: 'tts-current' });
        middle.replaceWith(mark);
        mark.append(middle);
        this.marks.push(mark);
      }
      if (this.marks.length) this.index.rebuild();
    }

    clear() {
      if (this.current) {
        if (CSS.highlights.get(HIGHLIGHT) === this.current) CSS.highlights.delete(HIGHLIGHT);
        this.current = null;
      }
      this.clearPhrase();
      if (this.marks.length) {
        const parents = new Set();
        for (const mark of this.marks) {
          if (!mark.parentNode) continue;
          parents.add(mark.parentNode);
          mark.replaceWith(...mark.childNodes);
        }
        parents.forEach((parent) => parent.normalize());
        this.marks = [];
        this.index.rebuild();
      }
    }
  }

  // ------------------------------------------------------------------------ VTT

  function decodeEntities(text) {
    return text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&nbsp;/g, '\u00a0')
      .replace(/&lrm;|&rlm;/g, '')
      .replace(/&amp;/g, '&');
  }

  function seconds(stamp) {
    const parts = stamp.trim().split(':').map(Number);
    return parts.reduce((acc, part) => acc * 60 + part, 0);
  }

  const CUE_TIME = /<((?:\d+:)?\d{2}:\d{2}\.\d{3})>/;
  const cueText = (payload) => decodeEntities(payload.replace(/<[^>]*>/g, ''));

  /**
   * Cues of a WebVTT file: {id, start, end, text, phrases}. Cue timestamps inside a cue
   * ("… Lạng Sơn, <00:00:11.208>Cụm thi đua …") split it into phrases {start, end, text}.
   */
  function parseVtt(source) {
    const cues = [];
    const blocks = source.replace(/\r\n?/g, '\n').split(/\n{2,}/);
    for (const block of blocks) {
      const lines = block.split('\n').filter((line) => line !== '');
      const at = lines.findIndex((line) => line.includes('-->'));
      if (at < 0) continue;
      const [from, rest] = lines[at].split('-->');
      const to = rest.trim().split(/\s+/)[0];
      const payload = lines.slice(at + 1).join(' ');
      const cue = { id: at > 0 ? lines[at - 1].trim() : '', start: seconds(from), end: seconds(to) };
      cue.text = cueText(payload);
      const parts = payload.split(CUE_TIME);
      cue.phrases = [];
      for (let k = 0; k < parts.length; k += 2) {
        const start = k ? seconds(parts[k - 1]) : cue.start;
        const text = cueText(parts[k]);
        if (text.trim()) cue.phrases.push({ start, end: cue.end, text });
      }
      cue.phrases.forEach((phrase, k, all) => {
        if (k + 1 < all.length) phrase.end = all[k + 1].start;
      });
      if (cue.phrases.length < 2) cue.phrases = [];
      cues.push(cue);
    }
    return cues;
  }

  // ----------------------------------------------------------------------- dock

  /**
   * Keeps the player within reach: when its place in the article scrolls out of view it
   * moves to the bottom of the window as a compact bar, and back when its place returns.
   * The host moves to <body> because a transformed or overflow-hidden article would trap
   * a fixed element; a placeholder of its height keeps the article from jumping. A control
   * that had focus keeps it, so a listener on the seek bar stays on the seek bar, in view.
   */
  class Dock {
    constructor(player) {
      this.player = player;
      this.docked = false;
      this.placeholder = null;
      this.observer = null;
      if (typeof IntersectionObserver !== 'function') return;
      this.observer = new IntersectionObserver((entries) => this.onChange(entries[entries.length - 1]));
      this.observer.observe(player.host);
    }

    onChange(entry) {
      if (!this.player.root) return;
      if (!this.docked && entry.target === this.player.host && !entry.isIntersecting) this.dock();
      else if (this.docked && entry.target === this.placeholder && entry.isIntersecting) this.undock();
    }

    /** Move focus back to ``control`` after the host moved, without scrolling the page. */
    static refocus(control) {
      if (control && control.isConnected) control.focus({ preventScroll: true });
    }

    dock() {
      const { host, root, shadow } = this.player;
      const focused = shadow.activeElement;
      this.placeholder = el('div', { 'data-tts-host': 'placeholder', 'data-tts-skip': true });
      pin(this.placeholder, { all: 'initial', display: 'block', height: `${host.offsetHeight}px`, flex: '1 1 100%' });
      host.before(this.placeholder);
      host.setAttribute('data-tts-docked', '');
      root.classList.add('tts-docked');
      document.body.append(host);
      this.docked = true;
      Dock.refocus(focused);
      this.observer.unobserve(host);
      this.observer.observe(this.placeholder);
    }

    undock() {
      const { host, root, shadow } = this.player;
      const focused = shadow.activeElement;
      this.observer.unobserve(this.placeholder);
      host.removeAttribute('data-tts-docked');
      root.classList.remove('tts-docked', 'tts-expanded');
      this.player.moreBtn.setAttribute('aria-expanded', 'false');
      this.placeholder.replaceWith(host);
      this.placeholder = null;
      this.docked = false;
      Dock.refocus(focused);
      this.observer.observe(host);
    }

    /** Pixels the docked bar covers at the bottom of the window. */
    cover() {
      return this.docked && this.player.host ? this.player.host.offsetHeight : 0;
    }

    stop() {
      if (this.observer) this.observer.disconnect();
      if (this.placeholder) this.placeholder.remove();
      this.placeholder = null;
    }
  }

  /** Index of the phrase playing at ``t`` among a cue's phrases, or -1. */
  function phraseAt(phrases, t) {
    let found = -1;
    for (let k = 0; k < phrases.length; k++) {
      if (phrases[k].start <= t + 0.001) found = k;
      else break;
    }
    return found;
  }

  // --------------------------------------------------------------------- player

  const players = new Set();
  const messages = new WeakMap();
  let mediaOwner = null;

  /** The article a button reads: data-tts-target, else the page's main content. */
  function targetOf(button) {
    const selector = button.dataset.ttsTarget;
    const found = selector ? document.querySelector(selector) : null;
    return found || document.querySelector('main, article, [role="main"]') || document.body;
  }

  /** The block-level element (paragraph, list item…) holding ``node``, inside ``root``. */
  function blockOf(node, root) {
    for (let at = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement; at && at !== root; at = at.parentElement) {
      if (!getComputedStyle(at).display.startsWith('inline')) return at;
    }
    return null;
  }
  const base = (button) => {
    const explicit = button.dataset.ttsEndpoint || (script && script.dataset.ttsEndpoint);
    const root = explicit || (SCRIPT_URL ? SCRIPT_URL.origin : location.origin);
    return root.replace(/\/+$/, '');
  };

  /**
   * Listening figures (docs/console.md): what one playback of a registered article did,
   * reported to POST /v1/listens. "play" when the audio first plays, each quarter mark
   * once when the audio reaches it, "100" at the end, and "stop" with the sentence being
   * read when the listener closes the player or leaves the page before the end; each
   * carries the seconds listened since the last report. Nothing identifies the listener
   * (no id, the service sets no cookie). Reports are fire-and-forget: playback never waits
   * for them, and a failed one is lost, never retried.
   */
  class ListenReport {
    constructor(endpoint, article) {
      this.url = `${endpoint}/v1/listens`;
      this.article = article;
      this.sent = new Set();
      this.since = 0; // performance.now() when the audio last started moving; 0 while halted
      this.heard = 0; // seconds listened not reported yet
    }

    /** The audio plays: the first time, or again after the end, is a new playback. */
    playing() {
      if (this.sent.has('100')) this.sent.clear();
      if (!this.since) this.since = performance.now();
      this.send('play');
    }

    /** The audio stopped moving (paused, or at its end). */
    halted() {
      if (this.since) this.heard += (performance.now() - this.since) / 1000;
      this.since = 0;
    }

    /** The audio is at ``t`` of ``total`` seconds: the marks it has reached, once each. */
    at(t, total) {
      if (!this.sent.has('play') || !(total > 0)) return;
      for (const mark of [25, 50, 75]) {
        if (t >= (total * mark) / 100) this.send(String(mark));
      }
    }

    ended(total) {
      this.halted();
      this.at(total, total);
      this.send('100');
    }

    /** The listener closed the player or is leaving the page, at sentence ``sentence``. */
    stop(sentence, leaving) {
      // Nothing to report before the audio played, or after it was heard to the end.
      if (!this.sent.has('play') || this.sent.has('100')) return;
      this.halted();
      this.send('stop', sentence == null ? {} : { sentence }, leaving);
    }

    send(event, extra = {}, leaving = false) {
      if (this.sent.has(event)) return;
      this.sent.add(event);
      if (this.since) {
        const now = performance.now();
        this.heard += (now - this.since) / 1000;
        this.since = now;
      }
      // The service takes at most an hour per report.
      const seconds = Math.min(3600, Math.round(this.heard * 10) / 10);
      this.heard = 0;
      const body = JSON.stringify({ article: this.article, event, seconds, ...extra });
      // text/plain: a cross-origin request that needs no preflight, the only type a beacon
      // to another origin may carry; the service reads the JSON in it all the same.
      const type = 'text/plain;charset=UTF-8';
      if (leaving && navigator.sendBeacon) {
        try {
          if (navigator.sendBeacon(this.url, new Blob([body], { type }))) return;
        } catch {
          /* fall back to fetch */
        }
      }
      try {
        fetch(this.url, {
          method: 'POST', body, headers: { 'Content-Type': type }, credentials: 'omit', keepalive: true,
        }).catch(() => {});
      } catch {
        /* a report is never worth an error on the page */
      }
    }
  }

  class Player {
    /** ``choice``: {text, range} to read only what the listener selected in the article. */
    constructor(button, choice = null) {
      this.button = button;
      this.choice = choice;
      this.target = targetOf(button);
      this.settings = { ...DEFAULT_SETTINGS, ...(storage.get('settings') || {}) };
      this.hereHosts = [];
      this.cues = [];
      this.spans = [];
      this.cueIndex = -1;
      this.total = 0;
      this.info = null;
      this.state = 'idle';
      this.lastSaved = 0;
      this.loadTimer = 0;
      this.autoScroll = typeof this.settings.scroll === 'boolean' ? this.settings.scroll : button.dataset.ttsScroll !== 'false';
      this.buttonLabel = button.innerHTML;
      this.onAnyPlay = this.onAnyPlay.bind(this);
      this.onPageHide = () => {
        this.savePosition(true);
        this.reportStop(true);
      };
      players.add(this);
    }

    title() {
      const explicit = this.button.dataset.ttsTitle;
      const heading = this.target.querySelector('h1');
      const text = explicit || (heading && heading.textContent) || document.title || '';
      const title = text.replace(/\s+/g, ' ').trim().slice(0, 480) || null;
      return title && this.choice ? `${title} (đoạn chọn)` : title;
    }

    // -- loading

    /** The registered article the button names, when it reads the whole of it. */
    articleId() {
      const id = this.button.dataset.ttsArticle;
      return !this.choice && id && /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/.test(id) ? id : null;
    }

    /**
     * A registered article's own audio and timings, made when its editors saved it: no
     * reading on the spot. The timings are fetched first, as the check that the audio is
     * ready (404 unknown article, 503 still being made: said like any reading failure).
     */
    async articleInfo(id) {
      const at = `${base(this.button)}/v1/articles/${encodeURIComponent(id)}`;
      const response = await fetch(`${at}/vtt`, { credentials: 'omit' });
      if (!response.ok) throw await this.httpError(response);
      const vtt = await response.text();
      return { id: `article:${id}`, title: this.title(), audio_url: `${at}/audio`, vtt_url: `${at}/vtt`, vtt, duration_s: null, queue_position: null };
    }

    async start() {
      if (this.state === 'loading') return;
      this.clearMessage();
      const article = this.articleId();
      if (article) {
        this.setLoading(true);
        announce(MSG.loading);
        let info;
        try {
          info = await this.articleInfo(article);
        } catch (error) {
          this.setLoading(false);
          this.fail(error && error.ttsMessage ? error.ttsMessage : MSG.network);
          return;
        }
        this.listens = new ListenReport(base(this.button), article);
        this.opened(info);
        return;
      }
      const text = this.choice ? this.choice.text : collect(this.target).text;
      if (!text.trim()) {
        this.fail(MSG.empty);
        return;
      }
      this.setLoading(true);
      announce(MSG.loading);
      let info;
      try {
        const response = await fetch(`${base(this.button)}/v1/read`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ text, title: this.title() }),
          credentials: 'omit',
        });
        if (!response.ok) throw await this.httpError(response);
        info = await response.json();
      } catch (error) {
        this.setLoading(false);
        this.fail(error && error.ttsMessage ? error.ttsMessage : MSG.network);
        return;
      }
      this.opened(info);
    }

    /** Open the player on ``info`` (what /v1/read answered, or a registered article). */
    opened(info) {
      this.info = info;
      // Its place among articles waiting for their first audio (1 = next); null once read.
      this.queuePosition = info.queue_position == null ? null : info.queue_position;
      this.index = new TextIndex(this.target);
      this.highlightMode = this.button.dataset.ttsHighlight || 'auto';
      this.highlighter = new Highlighter(this.index, this.settings.highlight ? this.highlightMode : 'none');
      // A selection is found where it was selected, not at an earlier copy of its words.
      this.firstKey = this.choice ? this.index.keyAt(this.choice.range) : 0;
      if (info.duration_s) this.total = info.duration_s;
      this.build();
      if (info.vtt != null) this.setCues(parseVtt(info.vtt));
      else this.loadTimings();
      const saved = storage.get(`pos:${info.id}`);
      const fresh = saved && Date.now() - (saved.at || 0) < RESUME_TTL_MS;
      const end = saved && (saved.d || info.duration_s || Infinity);
      if (fresh && saved.t >= RESUME_MIN_S && saved.t < end - RESUME_MIN_S) {
        this.offerResume(saved.t);
      } else {
        this.play(0);
      }
    }

    async httpError(response) {
      const error = new Error(`HTTP ${response.status}`);
      if (response.status === 503 || response.status === 429) {
        error.ttsMessage = MSG.busy;
        return error;
      }
      let detail = '';
      try {
        detail = (await response.json()).detail;
      } catch {
        /* not JSON */
      }
      error.ttsMessage = `Không đọc được nội dung này${detail ? `: ${detail}` : '.'}`;
      return error;
    }

    setLoading(on) {
      const button = this.button;
      this.state = on ? 'loading' : 'idle';
      button.classList.toggle('tts-loading', on);
      if (on) {
        button.setAttribute('aria-busy', 'true');
        button.setAttribute('aria-disabled', 'true');
        button.replaceChildren(el('span', { class: 'tts-spinner', 'aria-hidden': 'true' }), MSG.loading);
      } else {
        button.removeAttribute('aria-busy');
        button.removeAttribute('aria-disabled');
        button.innerHTML = this.buttonLabel;
      }
    }

    /** Show an error beside the button (or in the player) and announce it. */
    fail(message) {
      clearTimeout(this.loadTimer);
      clearTimeout(this.queueTimer);
      announce(message);
      if (this.root && this.root.isConnected) {
        this.status.textContent = message;
        this.root.dataset.ttsState = 'error';
        return;
      }
      // One message per button, whichever attempt made it: a retry replaces, never adds.
      this.clearMessage();
      const { host, shadow } = mount('message');
      shadow.append(el('p', { class: 'tts-message', text: message }));
      messages.set(this.button, host);
      this.button.after(host);
    }

    clearMessage() {
      const host = messages.get(this.button);
      if (host) host.remove();
      messages.delete(this.button);
    }

    async loadTimings() {
      const url = this.info.vtt_url;
      for (let attempt = 0; attempt < 6 && this.info && this.info.vtt_url === url; attempt++) {
        try {
          const response = await fetch(url, { credentials: 'omit' });
          if (response.ok) {
            this.setCues(parseVtt(await response.text()));
            return;
          }
          const wait = Number(response.headers.get('Retry-After')) || 5;
          await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 30) * 1000));
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 3000));
        }
      }
    }

    setCues(cues) {
      if (!this.root) return;
      this.cues = cues;
      let cursor = this.firstKey || 0;
      this.spans = cues.map((cue) => {
        const span = this.index.locate(cue.text, cursor);
        if (span) cursor = span[1];
        return span;
      });
      // Each phrase is looked for inside its sentence only, in order.
      this.phraseSpans = cues.map((cue, i) => {
        const sentence = this.spans[i];
        if (!sentence) return [];
        let from = sentence[0];
        return cue.phrases.map((phrase) => {
          const span = this.index.locate(phrase.text, from);
          if (!span || span[1] > sentence[1]) return null;
          from = span[1];
          return span;
        });
      });
      if (cues.length) this.total = Math.max(this.total, cues[cues.length - 1].end);
      this.root.dataset.ttsCues = String(cues.length);
      if (!this.choice) this.addFromHere();
      this.updateTime();
      this.updateCue(true);
    }

    // -- building the player

    build() {
      const button = (cls, label, icon, keys) =>
        el('button', { type: 'button', class: `tts-btn ${cls}`, 'aria-label': label, 'aria-keyshortcuts': keys }, svgIcon(icon));
      this.audio = el('audio', { preload: 'auto', class: 'tts-audio' });
      this.prevBtn = button('tts-prev', 'Câu trước', 'prev', ',');
      this.backBtn = button('tts-back', 'Lùi 10 giây', 'back', 'J');
      this.playBtn = button('tts-play', 'Phát', 'play', 'K');
      this.fwdBtn = button('tts-fwd', 'Tiến 10 giây', 'fwd', 'L');
      this.nextBtn = button('tts-next', 'Câu sau', 'next', '.');
      this.seek = el('input', {
        type: 'range', class: 'tts-seek', min: '0', max: '0', step: '1', value: '0',
        'aria-label': 'Vị trí đọc', 'aria-valuetext': 'Đang tải',
      });
      this.timeText = el('span', { class: 'tts-time', 'aria-hidden': 'true', text: '0:00 / --:--' });
      this.rate = el('select', { class: 'tts-rate', 'aria-label': 'Tốc độ đọc' });
      const savedRate = Number(storage.get('rate')) || 1;
      for (const rate of RATES) {
        const label = `${String(rate).replace('.', ',')}×`;
        this.rate.append(el('option', { value: String(rate), text: label, selected: rate === savedRate }));
      }
      const savedVolume = storage.get('volume');
      this.volume = el('input', {
        type: 'range', class: 'tts-volume', min: '0', max: '100', step: '5',
        value: String(savedVolume == null ? 100 : savedVolume), 'aria-label': 'Âm lượng',
      });
      // ``download`` only works same-origin; elsewhere open the MP3 in a new tab, and say so.
      const sameOrigin = new URL(this.info.audio_url, location.href).origin === location.origin;
      this.download = el('a', {
        class: 'tts-btn tts-download', href: this.info.audio_url, download: this.fileName(),
        target: sameOrigin ? null : '_blank', rel: sameOrigin ? null : 'noopener',
        'aria-label': sameOrigin ? 'Tải MP3' : 'Tải MP3 (mở trong thẻ mới)',
      }, svgIcon('download'), el('span', { text: 'Tải MP3' }));
      this.scrollBtn = el('button', {
        type: 'button', class: 'tts-btn tts-toggle', 'aria-pressed': String(this.autoScroll),
        text: 'Tự cuộn',
      });
      this.closeBtn = button('tts-close', 'Đóng trình đọc', 'close');
      this.buildSettings(savedRate);
      this.status = el('p', { class: 'tts-status', text: MSG.loading });
      this.resume = el('div', { class: 'tts-resume', hidden: true });
      const help = el('details', { class: 'tts-help' },
        el('summary', { text: 'Phím tắt' }),
        el('dl', {}, ...SHORTCUTS.flatMap(([key, what]) => [el('dt', {}, el('kbd', { text: key })), el('dd', { text: what })])),
        el('p', { text: 'Phím tắt chỉ dùng được khi đang ở trong trình đọc. Trình đọc màn hình ở chế độ duyệt: dùng nút hoặc chuyển sang chế độ tương tác.' }),
      );
      this.moreBtn = el('button', {
        type: 'button', class: 'tts-btn tts-more', 'aria-expanded': 'false', text: 'Thêm',
      });
      // A named landmark: screen-reader users jump back to it from anywhere in the article.
      this.root = el('section', {
        class: 'tts-player', role: 'region', 'aria-label': 'Trình đọc bài viết', 'data-tts-state': 'loading',
      },
      el('div', { class: 'tts-row tts-transport' },
        this.prevBtn, this.backBtn, this.playBtn, this.fwdBtn, this.nextBtn,
        el('div', { class: 'tts-seekbox' }, this.seek, this.timeText), this.moreBtn),
      el('div', { class: 'tts-row tts-extra' },
        el('label', { class: 'tts-field' }, el('span', { text: 'Tốc độ' }), this.rate),
        el('label', { class: 'tts-field' }, el('span', { text: 'Âm lượng' }), this.volume),
        this.download, this.scrollBtn, this.settingsBtn, this.closeBtn),
      this.settingsPanel, this.status, this.resume, help, this.audio);
      const { host, shadow } = mount('player');
      this.host = host;
      this.shadow = shadow;
      shadow.append(this.root);
      this.wire();
      this.place(host);
      this.dock = new Dock(this);
      this.button.hidden = true;
      this.setLoading(false);
      this.button.hidden = true;
      this.audio.playbackRate = savedRate;
      this.audio.volume = Number(this.volume.value) / 100;
      this.audio.src = this.info.audio_url;
    }

    /**
     * Put the player after the button; when the button sits in a narrow box (a floated
     * toolbar of 120 px), after the nearest ancestor that leaves it room, within the article.
     */
    place(host) {
      this.button.after(host);
      const room = Math.min(MIN_PLAYER_PX, this.target.getBoundingClientRect().width || MIN_PLAYER_PX);
      let after = this.button;
      while (host.getBoundingClientRect().width < room - 1) {
        const parent = after.parentElement;
        if (!parent || parent === this.target || parent === document.body || !parent.parentElement) break;
        after = parent;
        after.after(host);
      }
    }

    fileName() {
      const title = (this.info.title || 'bai-doc').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
        .replace(/đ/g, 'd').replace(/Đ/g, 'D').replace(/[^\w]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
      return `${title || 'bai-doc'}.mp3`;
    }

    wire() {
      const a = this.audio;
      this.playBtn.addEventListener('click', () => this.toggle());
      this.prevBtn.addEventListener('click', () => this.sentence(-1));
      this.nextBtn.addEventListener('click', () => this.sentence(1));
      this.backBtn.addEventListener('click', () => this.skip(-10));
      this.fwdBtn.addEventListener('click', () => this.skip(10));
      this.closeBtn.addEventListener('click', () => this.close());
      this.scrollBtn.addEventListener('click', () => this.setScroll(!this.autoScroll));
      this.wireSettings();
      this.rate.addEventListener('change', () => this.setRate(this.rate.value));
      this.volume.addEventListener('input', () => {
        a.volume = Number(this.volume.value) / 100;
        this.volume.setAttribute('aria-valuetext', `${this.volume.value}%`);
        storage.set('volume', Number(this.volume.value));
      });
      this.volume.setAttribute('aria-valuetext', `${this.volume.value}%`);
      this.seek.addEventListener('input', () => this.updateTime(Number(this.seek.value)));
      this.seek.addEventListener('change', () => this.seekTo(Number(this.seek.value)));
      this.seek.addEventListener('keydown', (event) => this.seekKey(event));
      this.seek.addEventListener('blur', () => this.updateTime());
      this.moreBtn.addEventListener('click', () => {
        const open = this.moreBtn.getAttribute('aria-expanded') !== 'true';
        this.moreBtn.setAttribute('aria-expanded', String(open));
        this.root.classList.toggle('tts-expanded', open);
      });
      this.root.addEventListener('keydown', (event) => this.shortcut(event));

      // Media events arrive asynchronously: ignore those that come after close().
      const on = (type, handler) => a.addEventListener(type, () => this.audio === a && handler());
      on('playing', () => this.onPlaying());
      on('play', () => this.onPlay());
      on('pause', () => this.onPause());
      on('ended', () => this.onEnded());
      on('timeupdate', () => this.onTime());
      on('seeked', () => this.onTime(true));
      on('durationchange', () => this.updateTime());
      on('error', () => this.onError());
      document.addEventListener('play', this.onAnyPlay, true);
      window.addEventListener('tts-player:play', this.onAnyPlay);
      window.addEventListener('pagehide', this.onPageHide);
    }

    // -- settings (remembered per site: localStorage belongs to the page's origin)

    buildSettings(savedRate) {
      const id = `tts-settings-${Math.random().toString(36).slice(2)}`;
      this.settingsBtn = el('button', {
        type: 'button', class: 'tts-btn tts-settings-btn', 'aria-expanded': 'false', 'aria-controls': id,
        text: 'Cài đặt',
      });
      const check = (cls, label, on) => {
        const input = el('input', { type: 'checkbox', class: cls, checked: on });
        return [input, el('label', { class: 'tts-check' }, input, el('span', { text: label }))];
      };
      let highlightRow;
      let scrollRow;
      let enlargeRow;
      [this.optHighlight, highlightRow] = check('tts-opt-highlight', 'Tô sáng câu và cụm từ đang đọc', this.settings.highlight);
      [this.optScroll, scrollRow] = check('tts-opt-scroll', 'Tự cuộn theo câu đang đọc', this.autoScroll);
      [this.optEnlarge, enlargeRow] = check('tts-opt-enlarge', 'Phóng to chữ của đoạn đang đọc', this.settings.enlarge);
      this.optRate = el('select', { class: 'tts-rate tts-opt-rate' });
      for (const rate of RATES) {
        const label = `${String(rate).replace('.', ',')}×`;
        this.optRate.append(el('option', { value: String(rate), text: label, selected: rate === savedRate }));
      }
      const name = `${id}-scheme`;
      this.optSchemes = SCHEMES.map(([value, label]) => {
        const input = el('input', { type: 'radio', name, value, checked: value === this.settings.scheme });
        return [input, el('label', { class: 'tts-check' }, input, el('span', { text: label }))];
      });
      this.settingsPanel = el('div', {
        id, class: 'tts-settings', role: 'group', 'aria-label': 'Cài đặt trình đọc', hidden: true,
      },
      el('label', { class: 'tts-field' }, el('span', { text: 'Tốc độ mặc định' }), this.optRate),
      highlightRow,
      el('fieldset', { class: 'tts-schemes' }, el('legend', { text: 'Màu tô sáng' }),
        ...this.optSchemes.map(([, row]) => row)),
      scrollRow, enlargeRow,
      el('p', { class: 'tts-note', text: 'Cài đặt được nhớ cho trang này trên trình duyệt này.' }));
    }

    wireSettings() {
      this.settingsBtn.addEventListener('click', () => this.toggleSettings());
      this.settingsPanel.addEventListener('keydown', (event) => {
        if (event.key !== 'Escape') return;
        event.preventDefault();
        this.toggleSettings(false);
        this.settingsBtn.focus();
      });
      this.optRate.addEventListener('change', () => this.setRate(this.optRate.value));
      this.optScroll.addEventListener('change', () => this.setScroll(this.optScroll.checked));
      this.optHighlight.addEventListener('change', () => {
        this.saveSettings({ highlight: this.optHighlight.checked });
        this.highlighter.clear();
        this.highlighter.mode = this.optHighlight.checked ? new Highlighter(this.index, this.highlightMode).mode : 'none';
        this.updateCue(true);
      });
      this.optEnlarge.addEventListener('change', () => {
        this.saveSettings({ enlarge: this.optEnlarge.checked });
        this.updateCue(true);
      });
      for (const [input] of this.optSchemes) {
        input.addEventListener('change', () => {
          if (!input.checked) return;
          this.saveSettings({ scheme: input.value });
          this.applyScheme();
        });
      }
      this.applyScheme();
    }

    toggleSettings(open = this.settingsPanel.hidden) {
      this.settingsPanel.hidden = !open;
      this.settingsBtn.setAttribute('aria-expanded', String(open));
      if (open) this.optRate.focus();
    }

    saveSettings(change) {
      Object.assign(this.settings, change);
      storage.set('settings', this.settings);
    }

    applyScheme() {
      const root = document.documentElement;
      if (this.settings.scheme && this.settings.scheme !== 'yellow') root.dataset.ttsScheme = this.settings.scheme;
      else delete root.dataset.ttsScheme;
    }

    setRate(value) {
      const rate = Number(value) || 1;
      this.audio.playbackRate = rate;
      this.rate.value = String(rate);
      this.optRate.value = String(rate);
      storage.set('rate', rate);
    }

    setScroll(on) {
      this.autoScroll = on;
      this.scrollBtn.setAttribute('aria-pressed', String(on));
      this.optScroll.checked = on;
      this.saveSettings({ scroll: on });
    }

    /** Enlarge the block being read (low-vision readers), and only that one. */
    enlarge(range) {
      const block = range && this.settings.enlarge ? blockOf(range.startContainer, this.target) : null;
      if (this.enlarged && this.enlarged !== block) this.enlarged.classList.remove('tts-enlarged');
      this.enlarged = block;
      if (block) block.classList.add('tts-enlarged');
    }

    // -- "Đọc từ đây": a control at the start of every paragraph that has a sentence

    addFromHere() {
      this.removeFromHere();
      const seen = new Set();
      this.spans.forEach((span, i) => {
        if (!span) return;
        const block = blockOf(this.index.nodes[this.index.owner[span[0]]], this.target);
        if (!block || seen.has(block) || !block.matches(BLOCKS)) return;
        seen.add(block);
        const { host, shadow } = mount('here');
        const words = this.cues[i].text.split(/\s+/).slice(0, 6).join(' ');
        const control = el('button', {
          type: 'button', class: 'tts-here', text: 'Đọc từ đây', 'aria-label': `Đọc từ đây: ${words}…`,
        });
        control.addEventListener('click', () => this.play(this.cues[i].start + 0.01));
        shadow.append(control);
        block.prepend(host);
        this.hereHosts.push(host);
      });
    }

    removeFromHere() {
      for (const host of this.hereHosts) host.remove();
      this.hereHosts = [];
    }

    // -- Media Session: lock screen, notification and headset buttons

    claimMediaSession() {
      const session = navigator.mediaSession;
      if (!session || typeof MediaMetadata !== 'function' || !this.info) return;
      const og = document.querySelector('meta[property="og:image"]');
      const artwork = og && og.content ? [{ src: new URL(og.content, location.href).href }] : [];
      session.metadata = new MediaMetadata({
        title: this.info.title || this.title() || document.title,
        artist: location.hostname,
        album: 'Đọc nội dung',
        artwork,
      });
      const handle = (action, handler) => {
        try {
          session.setActionHandler(action, handler);
        } catch {
          /* an action this browser does not know */
        }
      };
      handle('play', () => this.audio && this.audio.play().catch(() => {}));
      handle('pause', () => {
        if (!this.audio) return;
        this.listenerPaused = true;
        this.audio.pause();
      });
      handle('seekbackward', (details) => this.skip(-((details && details.seekOffset) || 10)));
      handle('seekforward', (details) => this.skip((details && details.seekOffset) || 10));
      handle('seekto', (details) => this.seekTo(details.seekTime));
      handle('previoustrack', () => this.sentence(-1));
      handle('nexttrack', () => this.sentence(1));
      mediaOwner = this;
    }

    releaseMediaSession() {
      const session = navigator.mediaSession;
      if (!session || mediaOwner !== this) return;
      for (const action of ['play', 'pause', 'seekbackward', 'seekforward', 'seekto', 'previoustrack', 'nexttrack']) {
        try {
          session.setActionHandler(action, null);
        } catch {
          /* ignore */
        }
      }
      session.metadata = null;
      session.playbackState = 'none';
      mediaOwner = null;
    }

    // -- playback

    /** Start from ``from`` seconds; only ever called from the listener's own press. */
    play(from) {
      this.resume.hidden = true;
      this.resume.replaceChildren();
      if (from) this.pendingSeek = from;
      this.root.dataset.ttsState = 'loading';
      this.status.textContent = MSG.loading;
      this.started = true;
      this.showQueue();
      this.watchLoading();
      this.applyPendingSeek();
      // Show where reading resumes at once, not when the seek completes.
      if (from) this.updateCue(true, from);
      const promise = this.audio.play();
      if (promise) {
        promise.catch((error) => {
          if (error && error.name === 'NotAllowedError') {
            clearTimeout(this.loadTimer);
            this.root.dataset.ttsState = 'paused';
            this.status.textContent = MSG.blocked;
            announce(MSG.blocked);
          }
        });
      }
      this.playBtn.focus();
    }

    /**
     * Fail only if audio that should be playing has not started within the time allowed.
     * An article still waiting its turn has not failed: the wait goes on, and the listener
     * hears where it stands instead of an error that is not true.
     */
    watchLoading() {
      clearTimeout(this.loadTimer);
      this.loadTimer = setTimeout(() => {
        const waiting = this.root && this.root.dataset.ttsState === 'loading';
        if (!waiting || !this.audio || this.audio.paused) return;
        if (this.queuePosition != null) this.watchLoading();
        else this.fail(MSG.audio);
      }, FIRST_AUDIO_TIMEOUT_MS);
    }

    /** While the article waits its turn, say where it stands, and ask again every few seconds. */
    showQueue() {
      clearTimeout(this.queueTimer);
      const loading = this.root && this.root.dataset.ttsState === 'loading';
      if (!loading || this.queuePosition == null) return;
      const message = MSG.queued(this.queuePosition);
      if (this.status.textContent !== message) {
        this.status.textContent = message;
        announce(message);
      }
      this.queueTimer = setTimeout(() => this.refreshQueue(), QUEUE_POLL_MS);
    }

    async refreshQueue() {
      try {
        const response = await fetch(`${base(this.button)}/v1/read/${this.info.id}`, {
          headers: { Accept: 'application/json' },
          credentials: 'omit',
        });
        if (!response.ok) return;
        const info = await response.json();
        this.queuePosition = info.queue_position == null ? null : info.queue_position;
      } catch {
        return; // the network hiccuped: the audio request itself still decides
      }
      if (this.queuePosition == null && this.root && this.root.dataset.ttsState === 'loading') {
        this.status.textContent = MSG.loading;
      }
      this.showQueue();
    }

    applyPendingSeek() {
      if (this.pendingSeek == null) return;
      const a = this.audio;
      if (a.readyState >= 1 && this.seekable(this.pendingSeek)) {
        a.currentTime = this.pendingSeek;
        this.pendingSeek = null;
      } else {
        a.addEventListener('loadedmetadata', () => this.applyPendingSeek(), { once: true });
      }
    }

    toggle() {
      if (!this.audio) return;
      if (this.audio.paused || this.audio.ended) {
        if (!this.resume.hidden) {
          this.play(this.resumeAt || 0);
          return;
        }
        if (this.audio.readyState < 3) this.watchLoading();
        this.audio.play().catch(() => {});
      } else {
        // Paused by the listener, even before the first sound: say so, and stop waiting.
        this.listenerPaused = true;
        this.audio.pause();
      }
    }

    seekable(t) {
      const ranges = this.audio.seekable;
      for (let i = 0; i < ranges.length; i++) {
        if (t >= ranges.start(i) && t <= ranges.end(i) + 0.01) return true;
      }
      return false;
    }

    /** Seek; when the audio was a live stream and the target is not seekable, reload it. */
    seekTo(t) {
      const a = this.audio;
      const end = this.total || (Number.isFinite(a.duration) ? a.duration : 0);
      const target = Math.max(0, end ? Math.min(t, end - 0.05) : t);
      if (this.seekable(target) || !this.cues.length) {
        a.currentTime = target;
      } else {
        // The stream was not seekable; now that the audio is complete the same URL serves
        // a static file with ranges: load it again and go on from the target.
        const wasPlaying = !a.paused;
        this.pendingSeek = target;
        a.src = this.info.audio_url;
        a.load();
        this.applyPendingSeek();
        if (wasPlaying) a.play().catch(() => {});
      }
      this.updateTime(target);
      this.updateCue(true, target);
    }

    skip(delta) {
      this.seekTo(this.audio.currentTime + delta);
    }

    /** Next (+1) or previous (-1) sentence; "previous" first restarts the current one. */
    sentence(step) {
      if (!this.cues.length) return;
      const t = this.audio.currentTime;
      let i = this.cueAt(t);
      if (step < 0 && i >= 0 && t - this.cues[i].start > 2) step = 0;
      i = Math.min(this.cues.length - 1, Math.max(0, i + step));
      this.seekTo(this.cues[i].start + 0.01);
    }

    cueAt(t) {
      let found = -1;
      for (let i = 0; i < this.cues.length; i++) {
        if (this.cues[i].start <= t + 0.001) found = i;
        else break;
      }
      return found;
    }

    // -- audio events

    onPlaying() {
      if (this.listens) this.listens.playing();
      clearTimeout(this.loadTimer);
      clearTimeout(this.queueTimer);
      this.queuePosition = null;
      // timeupdate comes about 4 times a second: at 2× a phrase boundary would show up to
      // half a second late. Follow the audio every frame while it plays (never in the
      // background, where frames stop and timeupdate carries on).
      cancelAnimationFrame(this.frame);
      const follow = () => {
        if (!this.audio || this.audio.paused) return;
        this.updateCue(false);
        this.frame = requestAnimationFrame(follow);
      };
      this.frame = requestAnimationFrame(follow);
      if (this.root.dataset.ttsState !== 'playing') {
        this.root.dataset.ttsState = 'playing';
        this.status.textContent = MSG.playing;
        announce(MSG.playing);
      }
    }

    onPlay() {
      this.setPlayIcon(true);
      this.claimMediaSession();
      if (navigator.mediaSession) navigator.mediaSession.playbackState = 'playing';
      window.dispatchEvent(new CustomEvent('tts-player:play', { detail: { player: this } }));
      // Two voices at once are unintelligible: pause the page's other media.
      for (const media of document.querySelectorAll('audio, video')) {
        if (media !== this.audio && !media.paused && !media.closest('.tts-player')) media.pause();
      }
    }

    onPause() {
      if (this.listens) this.listens.halted();
      this.setPlayIcon(false);
      if (navigator.mediaSession && mediaOwner === this) navigator.mediaSession.playbackState = 'paused';
      this.savePosition(true);
      if (this.audio.ended || this.root.dataset.ttsState === 'error') return;
      const byListener = this.listenerPaused;
      this.listenerPaused = false;
      if (byListener || this.root.dataset.ttsState !== 'loading' || this.audio.currentTime > 0) {
        clearTimeout(this.loadTimer);
        this.root.dataset.ttsState = 'paused';
        this.status.textContent = this.pausedBecause || MSG.paused;
        announce(this.pausedBecause || MSG.paused);
      }
      this.pausedBecause = null;
    }

    onEnded() {
      if (this.listens) this.listens.ended(this.duration());
      this.setPlayIcon(false);
      this.root.dataset.ttsState = 'ended';
      this.status.textContent = MSG.ended;
      announce(MSG.ended);
      storage.remove(`pos:${this.info.id}`);
      this.highlighter.clear();
      this.cueIndex = -1;
      this.root.dataset.ttsCue = '';
    }

    onError() {
      if (!this.audio.error || !this.root) return;
      clearTimeout(this.loadTimer);
      this.fail(MSG.audio);
    }

    onAnyPlay(event) {
      const other = event.type === 'tts-player:play' ? event.detail.player : event.target;
      if (other === this || other === this.audio || !this.audio || this.audio.paused) return;
      this.pausedBecause = MSG.otherAudio;
      this.audio.pause();
    }

    onTime(force) {
      const t = this.audio.currentTime;
      this.updateTime();
      this.updateCue(force === true);
      if (this.listens) this.listens.at(t, this.duration());
      if (t - this.lastSaved >= 3 || t < this.lastSaved) this.savePosition();
    }

    setPlayIcon(playing) {
      this.playBtn.setAttribute('aria-label', playing ? 'Tạm dừng' : 'Phát');
      this.playBtn.replaceChildren(svgIcon(playing ? 'pause' : 'play'));
    }

    savePosition(now) {
      if (!this.info || !this.audio) return;
      const t = this.audio.currentTime;
      if (!now && Math.abs(t - this.lastSaved) < 3) return;
      this.lastSaved = t;
      if (this.audio.ended) return;
      if (t >= RESUME_MIN_S) storage.set(`pos:${this.info.id}`, { t, d: this.total || null, at: Date.now() });
    }

    // -- display

    updateTime(shown) {
      if (!this.audio) return;
      const a = this.audio;
      if (!this.total && Number.isFinite(a.duration)) this.total = a.duration;
      const t = shown == null ? a.currentTime : shown;
      const total = this.total;
      this.timeText.textContent = `${clock(t)} / ${total ? clock(total) : '--:--'}`;
      if (total) {
        if (this.seek.max !== String(Math.ceil(total))) this.seek.max = String(Math.ceil(total));
        // A focused slider is announced on every change of its value, which would talk over
        // the article: while it has focus it moves only when the listener moves it.
        const focused = this.shadow && this.shadow.activeElement === this.seek;
        if (shown != null || !focused) {
          this.seek.value = String(Math.floor(t));
          this.seek.setAttribute('aria-valuetext', `${spoken(t)} trên ${spoken(total)}`);
        }
      } else if (shown != null || !(this.shadow && this.shadow.activeElement === this.seek)) {
        this.seek.setAttribute('aria-valuetext', `${spoken(t)}, đang tải phần còn lại`);
      }
    }

    updateCue(force, at) {
      if (!this.cues.length || !this.highlighter) return;
      if (!this.started) return; // the resume offer is on screen: nothing is being read yet
      const t = at == null ? this.audio.currentTime : at;
      const i = this.cueAt(t);
      const cue = this.cues[i];
      const k = cue ? phraseAt(cue.phrases, t) : -1;
      if (i === this.cueIndex && k === this.phraseIndex && !force) return;
      const sentenceChanged = i !== this.cueIndex || force;
      this.cueIndex = i;
      this.phraseIndex = k;
      this.root.dataset.ttsCue = cue ? cue.id : '';
      this.root.dataset.ttsPhrase = k >= 0 ? `${cue.id}.${k}` : '';
      let range = null;
      if (sentenceChanged) {
        range = cue ? this.highlighter.show(this.spans[i], cue.text) : (this.highlighter.clear(), null);
        const where = range || (cue && this.spans[i] ? this.index.range(this.spans[i], cue.text) : null);
        this.enlarge(where);
      }
      if (k >= 0) this.highlighter.showPhrase(this.phraseSpans[i][k], cue.phrases[k].text);
      else this.highlighter.clearPhrase();
      if (range && this.autoScroll && !this.audio.paused) this.reveal(range);
    }

    /** Scroll the sentence into view when it is off screen; no animation if motion is reduced. */
    reveal(range) {
      const rect = range.getBoundingClientRect();
      const height = (window.innerHeight || document.documentElement.clientHeight) - this.dock.cover();
      if (rect.top >= 0 && rect.bottom <= height) return;
      window.scrollBy({ top: rect.top - height / 3, behavior: reducedMotion() ? 'auto' : 'smooth' });
    }

    // -- resume and keys

    offerResume(saved) {
      // Shown as "1:02" and said as "1 phút 2 giây": both from the same whole second.
      const t = Math.floor(saved);
      this.resumeAt = saved;
      const question = el('p', { class: 'tts-resume-text', id: `tts-resume-${Math.random().toString(36).slice(2)}`, text: `Tiếp tục từ ${clock(t)}?` });
      const yes = el('button', { type: 'button', class: 'tts-btn tts-text-btn tts-resume-yes', text: 'Tiếp tục' });
      const no = el('button', { type: 'button', class: 'tts-btn tts-text-btn tts-resume-no', text: 'Đọc từ đầu' });
      yes.addEventListener('click', () => this.play(t));
      no.addEventListener('click', () => {
        storage.remove(`pos:${this.info.id}`);
        this.play(0);
      });
      this.resume.setAttribute('role', 'group');
      this.resume.setAttribute('aria-labelledby', question.id);
      this.resume.replaceChildren(question, yes, no);
      this.resume.hidden = false;
      this.root.dataset.ttsState = 'resume';
      this.status.textContent = '';
      announce(`Lần trước bạn nghe đến ${spoken(t)}. Tiếp tục từ ${spoken(t)}?`);
      yes.focus();
    }

    shortcut(event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target;
      if (target.tagName === 'SELECT' || target.isContentEditable) return;
      const code = event.code;
      const key = event.key.toLowerCase();
      let act = null;
      if (code === 'KeyK' || key === 'k') act = () => this.toggle();
      else if (code === 'KeyJ' || key === 'j') act = () => this.skip(-10);
      else if (code === 'KeyL' || key === 'l') act = () => this.skip(10);
      else if (code === 'Comma' || key === ',') act = () => this.sentence(-1);
      else if (code === 'Period' || key === '.') act = () => this.sentence(1);
      else if (key === ' ' && target === this.root) act = () => this.toggle();
      if (!act) return;
      event.preventDefault();
      act();
    }

    seekKey(event) {
      const steps = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };
      const a = this.audio;
      if (event.key in steps) this.seekTo(a.currentTime + steps[event.key]);
      else if (event.key === 'Home') this.seekTo(0);
      else if (event.key === 'End') this.seekTo(this.total || a.duration || 0);
      else return;
      event.preventDefault();
    }

    /** The audio's length: the file's own once known, else what the service said. */
    duration() {
      const d = this.audio && this.audio.duration;
      return Number.isFinite(d) && d > 0 ? d : this.total;
    }

    /** Tell the listening figures where the listener stopped (registered articles only). */
    reportStop(leaving) {
      if (!this.listens || !this.audio) return;
      const t = this.audio.currentTime;
      let cue = null;
      for (const each of this.cues) {
        if (each.start <= t) cue = each;
        else break;
      }
      const match = cue && /^s(\d+)$/.exec(cue.id);
      this.listens.stop(match ? Number(match[1]) : null, leaving);
    }

    close() {
      this.reportStop(false);
      this.savePosition(true);
      clearTimeout(this.loadTimer);
      clearTimeout(this.queueTimer);
      if (this.audio) {
        this.audio.pause();
        this.audio.removeAttribute('src');
        this.audio.load();
      }
      if (this.highlighter) this.highlighter.clear();
      document.removeEventListener('play', this.onAnyPlay, true);
      window.removeEventListener('tts-player:play', this.onAnyPlay);
      window.removeEventListener('pagehide', this.onPageHide);
      if (this.dock) this.dock.stop();
      this.removeFromHere();
      this.enlarge(null);
      this.releaseMediaSession();
      delete document.documentElement.dataset.ttsScheme;
      if (this.host) this.host.remove();
      this.host = null;
      this.shadow = null;
      this.root = null;
      this.audio = null;
      this.info = null;
      this.cues = [];
      players.delete(this);
      this.button.hidden = false;
      this.button.focus();
      announce(MSG.closed);
    }
  }

  // ---------------------------------------------------------------------- start

  const active = new WeakMap();

  function activate(button, choice = null) {
    const existing = active.get(button);
    if (existing && existing.state === 'loading') return;
    if (existing && existing.root) {
      if (!choice) {
        existing.playBtn.focus();
        return;
      }
      existing.close();
    }
    const player = new Player(button, choice);
    active.set(button, player);
    player.start();
  }

  // ------------------------------------------------------------------ selection

  /** The listener's selection when it lies inside an article with a read button. */
  function selectedChoice() {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const text = selection.toString().replace(/\s+/g, ' ').trim();
    if (!keyOf(text)) return null;
    for (const button of document.querySelectorAll('[data-tts-read]')) {
      if (targetOf(button).contains(range.commonAncestorContainer)) {
        return { button, text, range: range.cloneRange() };
      }
    }
    return null;
  }

  /** The small "Đọc đoạn chọn" button shown under a selection in the article. */
  const picker = { host: null, control: null, choice: null };

  function showPicker() {
    const choice = selectedChoice();
    picker.choice = choice;
    if (!choice) {
      if (picker.host) picker.host.remove();
      return;
    }
    if (!picker.host) {
      const { host, shadow } = mount('select');
      picker.host = host;
      picker.control = el('button', {
        type: 'button', class: 'tts-btn tts-pick', 'aria-keyshortcuts': SELECTION_KEYS, text: 'Đọc đoạn chọn',
      });
      // Keep the selection: a press on the button must not clear it before the click.
      picker.control.addEventListener('mousedown', (event) => event.preventDefault());
      picker.control.addEventListener('click', () => readChoice(picker.choice));
      shadow.append(picker.control);
    }
    const rects = choice.range.getClientRects();
    const last = rects.length ? rects[rects.length - 1] : choice.range.getBoundingClientRect();
    picker.host.style.setProperty('--tts-x', `${Math.max(0, last.left + window.scrollX)}px`);
    picker.host.style.setProperty('--tts-y', `${last.bottom + window.scrollY + 6}px`);
    if (!picker.host.isConnected) document.body.append(picker.host);
  }

  function readChoice(choice) {
    if (!choice) return;
    if (picker.host) picker.host.remove();
    activate(choice.button, choice);
  }

  function addStyles() {
    if (!SCRIPT_URL || document.querySelector('link[data-tts-css], link[href$="/player.css"]')) return;
    if (script && script.dataset.ttsCss === 'none') return;
    document.head.append(el('link', { rel: 'stylesheet', href: new URL('player.css', SCRIPT_URL).href, 'data-tts-css': '' }));
  }

  function init() {
    addStyles();
    live();
    let pickTimer = 0;
    document.addEventListener('selectionchange', () => {
      clearTimeout(pickTimer);
      pickTimer = setTimeout(showPicker, 150);
    });
    // The keyboard way to read a selection (made with Shift+arrows, caret browsing…).
    document.addEventListener('keydown', (event) => {
      if (!(event.altKey && event.shiftKey && !event.ctrlKey && event.code === 'KeyD')) return;
      const choice = selectedChoice();
      if (!choice) return;
      event.preventDefault();
      readChoice(choice);
    });
    document.addEventListener('click', (event) => {
      const button = event.target.closest && event.target.closest('[data-tts-read]');
      if (!button || button.getAttribute('aria-disabled') === 'true') return;
      event.preventDefault();
      activate(button);
    });
  }

  window.ttsPlayer = { version: '1', players, parseVtt, spoken };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
