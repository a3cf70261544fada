#!/usr/bin/env node
// preview.mjs: open drmpack serve's /_preview/ pages in headless Chromium and report, per page,
// whether its video played past --seconds.
//
//   node test/player/preview.mjs [--seconds 3] [--timeout 40] URL...
//
// Prints one JSON line per URL: {url, ok, currentTime, videoWidth, decodedFrames, status,
// errors}; exits 0 only if every page played (the page's status line says "playing", the
// position passed --seconds, and no page error happened). Browser: $PLAYTEST_CHROMIUM or
// /usr/bin/chromium through playwright-core, fresh profile.
import { chromium } from 'playwright-core';

const opt = { seconds: 3, timeout: 40, urls: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--seconds') opt.seconds = Number(argv[++i]);
  else if (argv[i] === '--timeout') opt.timeout = Number(argv[++i]);
  else opt.urls.push(argv[i]);
}
const browser = await chromium.launch({
  executablePath: process.env.PLAYTEST_CHROMIUM || '/usr/bin/chromium',
  args: ['--autoplay-policy=no-user-gesture-required'],
});
let allOK = true;
for (const url of opt.urls) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  const deadline = Date.now() + opt.timeout * 1000;
  let r;
  do {
    await page.waitForTimeout(250);
    r = await page.evaluate(() => {
      const v = document.getElementById('video');
      return {
        currentTime: v.currentTime, videoWidth: v.videoWidth,
        decodedFrames: v.getVideoPlaybackQuality().totalVideoFrames,
        status: document.getElementById('status').textContent,
      };
    });
  } while (r.currentTime <= opt.seconds && !r.status.startsWith('error') && Date.now() < deadline);
  const ok = r.currentTime > opt.seconds && r.status.startsWith('playing') && errors.length === 0;
  allOK &&= ok;
  console.log(JSON.stringify({ url, ok, ...r, errors }));
  await page.close();
}
await browser.close();
process.exit(allOK ? 0 : 1);
