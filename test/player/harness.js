// harness.js: the player-independent half of the playback harness pages (shaka.html,
// dashjs.html). A page loads its player library and this file, then calls
//
//   const H = playtestHarness({ describe, keyStatuses });
//
// which sets up window.playtest, the error/warning/event collection, the media-element
// listeners, the waitingforkey stall detector and the check/finish loop on <video id="video">.
// The page then does only its player-specific setup and starts it with H.run(main).
//
// Contract with play.mjs (the same for every page): window.playtest.done becomes true once
// currentTime > seconds (with frames decoded unless audioOnly), the media ends, or a fatal error
// happened (plus a short grace period to collect follow-up errors); window.playtest.snapshot()
// returns the result fields {done, ok, player, url, audioOnly, seconds, keySystem, currentTime,
// videoWidth, videoHeight, decodedFrames, droppedFrames, paused, ended, readyState, errors,
// warnings, events, variants}.
//
// Query parameters read here: mpd=URL (or src=URL), keys=KID:KEY,..., audioOnly=1, seconds=N,
// switch=1: once playing, force a switch to another video rendition through the player's API
// (the page's hooks.switchRendition(), which returns the height it switched to) and be done only
// when currentTime > seconds and the element shows that height; the events record
// "switch <from>p-><to>p" and every "resize WxH".
//
// hooks (all optional):
//   describe(x)    a string for a player-specific error object, or undefined to use the default
//                  rendering (text() uses it, so H.text(err) names player errors everywhere)
//   keyStatuses()  the player's view of the key statuses, quoted in the stall error
'use strict';
window.playtestHarness = function playtestHarness(hooks) {
  hooks = hooks || {};
  const q = new URLSearchParams(location.search);
  const flag = (name) => /^(1|true|yes)$/i.test(q.get(name) || '');
  const video = document.getElementById('video');
  const MAX_LINES = 100;

  const R = window.playtest = {
    done: false,
    ok: false,
    player: '',
    url: q.get('mpd') || q.get('src') || '',
    audioOnly: flag('audioOnly'),
    seconds: Number(q.get('seconds') || 3),
    switchWanted: flag('switch'),
    switchedTo: 0,
    keySystem: '',
    errors: [],
    warnings: [],
    events: [],
    variants: null,
    snapshot: null,
  };

  const text = (x) => {
    if (x === undefined) return 'undefined';
    if (x === null) return 'null';
    if (typeof x === 'string') return x;
    if (x instanceof Error) return x.message || String(x);
    if (hooks.describe && typeof x === 'object') {
      const d = hooks.describe(x);
      if (d !== undefined) return d;
    }
    try { return JSON.stringify(x); } catch (e) { return String(x); }
  };
  const add = (list, msg) => {
    msg = String(msg).slice(0, 600);
    if (list.length < MAX_LINES && !list.includes(msg)) list.push(msg);
  };
  let failedAt = 0;
  const fatal = (msg) => { add(R.errors, msg); if (!failedAt) failedAt = performance.now(); };
  const warn = (msg) => add(R.warnings, msg);
  const event = (msg) => { if (R.events.length < 200) R.events.push(msg + '@' + video.currentTime.toFixed(2)); };

  // nameOf finds value's key in an enum-like table (error codes, categories), '' if none.
  function nameOf(table, value) {
    if (!table) return '';
    for (const k of Object.keys(table)) if (table[k] === value) return k;
    return '';
  }

  // keys parses ?keys=KID:KEY,... into {kidHex: keyHex} (lower case, dashes removed); a
  // malformed pair is a fatal harness error and yields null.
  function keys() {
    const out = {};
    for (const pair of (q.get('keys') || '').split(',')) {
      if (!pair.trim()) continue;
      const [kid, key] = pair.split(':').map((s) => (s || '').trim().replace(/-/g, '').toLowerCase());
      if (!/^[0-9a-f]{32}$/.test(kid) || !/^[0-9a-f]{32}$/.test(key)) { fatal('harness: bad key pair ' + pair); return null; }
      out[kid] = key;
    }
    return out;
  }

  // Media element
  video.addEventListener('error', () => {
    const me = video.error;
    fatal('media element error ' + (me ? me.code + ': ' + (me.message || '') : '(no details)'));
  });
  video.addEventListener('resize', () => event('resize ' + video.videoWidth + 'x' + video.videoHeight));
  for (const ev of ['loadedmetadata', 'playing', 'waiting', 'stalled', 'encrypted', 'waitingforkey', 'ended', 'pause']) {
    video.addEventListener(ev, () => event(ev));
  }
  // A missing key stalls playback forever (waitingforkey, then no progress and no error): fail
  // fast instead of running into the timeout. ClearKey keys are local, so once the element has
  // waited for a key, 8 s without any currentTime progress is decisive.
  const KEY_WAIT_MS = 8000;
  let waitedForKey = false;
  let lastTime = -1;
  let lastProgress = performance.now();
  video.addEventListener('waitingforkey', () => { waitedForKey = true; });
  function checkKeyWait() {
    const now = performance.now();
    if (video.currentTime !== lastTime) { lastTime = video.currentTime; lastProgress = now; return; }
    if (!waitedForKey || now - lastProgress < KEY_WAIT_MS) return;
    let statuses = '';
    try { statuses = JSON.stringify(hooks.keyStatuses ? hooks.keyStatuses() : {}); } catch (e) { statuses = '?'; }
    fatal('stalled waiting for a decryption key: no progress for ' + KEY_WAIT_MS / 1000 + ' s at currentTime ' +
      video.currentTime.toFixed(2) + ' after waitingforkey (a KID without a key? key statuses: ' + statuses + ')');
    waitedForKey = false;
  }

  function snapshot() {
    const pq = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return {
      done: R.done,
      ok: R.ok,
      player: R.player,
      url: R.url,
      audioOnly: R.audioOnly,
      seconds: R.seconds,
      keySystem: R.keySystem,
      currentTime: video.currentTime,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      decodedFrames: pq ? pq.totalVideoFrames : 0,
      droppedFrames: pq ? pq.droppedVideoFrames : 0,
      paused: video.paused,
      ended: video.ended,
      readyState: video.readyState,
      errors: R.errors.slice(),
      warnings: R.warnings.slice(),
      events: R.events.slice(),
      variants: hooks.variants ? hooks.variants() : R.variants,
    };
  }
  R.snapshot = snapshot;

  function check() {
    if (R.done) return;
    checkKeyWait();
    const s = snapshot();
    if (R.switchWanted && !hooks.switchRendition) fatal('harness: this page cannot switch renditions');
    if (R.switchWanted && !R.switchedTo && s.currentTime > 0.5 && hooks.switchRendition) {
      const from = s.videoHeight;
      try {
        R.switchedTo = hooks.switchRendition(from);
        event('switch ' + from + 'p->' + R.switchedTo + 'p');
      } catch (e) {
        fatal('harness: switch failed: ' + text(e));
      }
    }
    const switched = !R.switchWanted || (R.switchedTo > 0 && s.videoHeight === R.switchedTo);
    const played = s.currentTime > R.seconds && (R.audioOnly || s.decodedFrames > 0) && switched;
    if (R.errors.length) {
      // Give follow-up errors (e.g. the media element error behind a player error) a moment.
      if (performance.now() - failedAt > 750) finish();
    } else if (played || s.ended) {
      finish();
    }
  }
  function finish() {
    const s = snapshot();
    R.ok = R.errors.length === 0 && s.currentTime > R.seconds && (R.audioOnly || s.decodedFrames > 0);
    R.done = true;
    clearInterval(timer);
  }
  const timer = setInterval(check, 100);

  // run starts the page's async setup; anything it throws is a fatal harness error.
  function run(main) {
    new Promise((resolve) => resolve(main())).catch((e) => fatal('harness: ' + text(e)));
  }

  return { R, q, flag, video, text, fatal, warn, event, nameOf, keys, run };
};
