#!/usr/bin/env node
// play.mjs: open a playback harness page (test/player/shaka.html or dashjs.html, served by
// drmpack/internal/playtest) in headless Chromium and report whether it played.
//
//   node test/player/play.mjs --page URL [--seconds 3] [--timeout 60] [--chromium /usr/bin/chromium] [--verbose]
//
// The page must expose window.playtest = { done, snapshot() } (see harness.js). This script
// waits (polling) until done or --timeout seconds have passed since start, then prints ONE JSON
// line on stdout:
//
//   {ok, player, currentTime, videoWidth, videoHeight, decodedFrames, droppedFrames,
//    errors: [...], warnings: [...], keySystem, variants, events, url}
//
// and exits 0 only if ok: currentTime > --seconds, video frames decoded (unless the page was
// opened with audioOnly=1), and no error (media element error, shaka CRITICAL error, dash.js
// error, uncaught page error, page crash, timeout, harness failure). Warnings (the player's log
// warnings, shaka RECOVERABLE errors, browser console errors/warnings) do not fail the run;
// callers decide.
// Diagnostics (every console line, the browser's own messages) go to stderr.
// Exit status: 0 ok, 1 played badly, 2 usage error.
//
// Browser: Debian's Chromium via playwright-core (no downloaded browsers), fresh temporary
// profile, no network beyond 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const usage = 'usage: node test/player/play.mjs --page URL [--seconds 3] [--timeout 60] [--chromium PATH] [--verbose]';
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 20) {
  console.error(`play.mjs needs Node.js >= 20 (this is ${process.version})`);
  process.exit(2);
}

const opt = { page: '', seconds: 3, timeout: 60, chromium: process.env.PLAYTEST_CHROMIUM || '/usr/bin/chromium', verbose: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) { console.error(`${a} needs a value\n${usage}`); process.exit(2); }
    return argv[++i];
  };
  if (a === '--page') opt.page = val();
  else if (a === '--seconds') opt.seconds = Number(val());
  else if (a === '--timeout') opt.timeout = Number(val());
  else if (a === '--chromium') opt.chromium = val();
  else if (a === '--verbose') opt.verbose = true;
  else if (a === '-h' || a === '--help') { console.log(usage); process.exit(0); }
  else { console.error(`unknown argument ${a}\n${usage}`); process.exit(2); }
}
if (!opt.page || !Number.isFinite(opt.seconds) || !(opt.timeout > 0)) { console.error(usage); process.exit(2); }

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
  // Only loopback resolves: the page cannot reach anything but the harness server.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

const t0 = Date.now();
const deadline = t0 + opt.timeout * 1000;
const remaining = () => Math.max(1000, deadline - Date.now());
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1) + 's';
const diag = (msg) => console.error(`[play ${elapsed()}] ${msg}`);

const out = {
  ok: false, player: '', currentTime: 0, videoWidth: 0, videoHeight: 0, decodedFrames: 0, droppedFrames: 0,
  errors: [], warnings: [], keySystem: '', variants: null, events: [], url: opt.page,
};
const consoleWarnings = [];
const pageErrors = [];
const pushUnique = (list, msg) => { msg = String(msg).slice(0, 600); if (list.length < 100 && !list.includes(msg)) list.push(msg); };

let userDataDir = '';
let context = null;
async function cleanup() {
  const c = context; context = null;
  if (c) { try { await c.close(); } catch { /* browser already gone */ } }
  if (userDataDir) { fs.rmSync(userDataDir, { recursive: true, force: true }); userDataDir = ''; }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { cleanup().finally(() => process.exit(1)); });
}

try {
  if (!fs.existsSync(opt.chromium)) throw new Error(`no Chromium at ${opt.chromium} (apt-get install chromium)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`cannot load playwright-core (run \`npm ci\` at the repo root): ${e.message}`);
  }
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playtest-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opt.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 800, height: 450 },
    timeout: Math.min(45000, remaining()),
  });
  diag(`browser ${context.browser() ? context.browser().version() : ''} up`);
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => {
    const type = m.type();
    const loc = m.location();
    const where = loc && loc.url ? ` (${loc.url}${loc.lineNumber ? ':' + loc.lineNumber : ''})` : '';
    if (opt.verbose || type !== 'debug') diag(`console.${type}: ${m.text()}${where}`);
    if (type === 'error' || type === 'warning' || type === 'assert') pushUnique(consoleWarnings, `console.${type}: ${m.text()}${where}`);
  });
  page.on('pageerror', (e) => { diag(`pageerror: ${e.stack || e.message}`); pushUnique(pageErrors, `page error: ${e.message}`); });
  page.on('crash', () => { diag('page crashed'); pushUnique(pageErrors, 'page crashed'); });
  if (opt.verbose) {
    page.on('requestfailed', (r) => diag(`request failed: ${r.url()} ${r.failure() ? r.failure().errorText : ''}`));
    page.on('response', (r) => diag(`HTTP ${r.status()} ${r.url()}`));
  }

  const url = new URL(opt.page);
  if (!url.searchParams.has('seconds')) url.searchParams.set('seconds', String(opt.seconds));
  out.url = url.href;
  const resp = await page.goto(url.href, { waitUntil: 'load', timeout: remaining() });
  if (!resp || !resp.ok()) throw new Error(`harness page ${url.href}: HTTP ${resp ? resp.status() : 'no response'}`);

  let timedOut = false;
  try {
    await page.waitForFunction(() => !!(window.playtest && window.playtest.done), null, { polling: 200, timeout: remaining() });
  } catch (e) {
    if (!/Timeout/i.test(e.message)) throw e;
    timedOut = true;
  }
  const snap = await page.evaluate(() => (window.playtest && window.playtest.snapshot ? window.playtest.snapshot() : null));
  if (!snap) throw new Error('the page did not set up window.playtest (see console messages on stderr)');
  for (const k of Object.keys(out)) if (k in snap && k !== 'ok' && k !== 'url') out[k] = snap[k];
  out.seconds = snap.seconds;
  out.audioOnly = snap.audioOnly;
  out.paused = snap.paused;
  out.ended = snap.ended;
  out.readyState = snap.readyState;
  if (timedOut) {
    out.errors.push(`timeout: after ${opt.timeout} s currentTime=${snap.currentTime.toFixed(2)} decodedFrames=${snap.decodedFrames} ` +
      `readyState=${snap.readyState} paused=${snap.paused} (events: ${snap.events.join(' ') || 'none'})`);
  }
} catch (e) {
  out.errors.push(`harness: ${e.message.split('\n')[0]}`);
  diag(`harness failure: ${e.stack || e.message}`);
} finally {
  await cleanup();
}

for (const e of pageErrors) pushUnique(out.errors, e);
for (const w of consoleWarnings) pushUnique(out.warnings, w);
out.ok = out.errors.length === 0 && out.currentTime > opt.seconds && (out.audioOnly === true || out.decodedFrames > 0);
diag(`done ok=${out.ok} currentTime=${out.currentTime.toFixed(2)} ${out.videoWidth}x${out.videoHeight} frames=${out.decodedFrames}`);
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.ok ? 0 : 1);
