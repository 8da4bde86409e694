// page.mjs: drives headless Chromium (playwright-core) through the subscriber's page and prints
// one JSON line saying what it saw; the exit code is 0 when every expectation held, 1 when one
// did not, 2 for bad arguments. web/page_test.go runs it; internal/dev/browser.sh installs both.
//
//   node internal/browser/page.mjs --base http://127.0.0.1:PORT [--token TOKEN] [options]
//
//   --mode photos|invalid   photos (default): wait for --state with --photos loaded images;
//                           invalid: wait for the "This link is not valid" message
//   --photos N              images expected at the end (default 30)
//   --state STATE           final state expected (default completed)
//   --rise                  the photo count must be seen rising (an intermediate count)
//   --at-once               the first state shown must already have all N photos
//   --viewer                check the full-size viewer with the keyboard: Tab, Enter,
//                           ArrowRight, Escape, and focus back on the photo
//   --allow-http-error PATH an HTTP error status from PATH is expected (repeatable); so is
//                           Chromium's console error about it
//   --screenshot FILE       save a full-page PNG once the page has settled
//   --timeout MS            give up after MS (default 30000)
//   --chromium PATH         the browser (default: $PHOTOGEN_CHROMIUM, else /usr/bin/chromium)
//
// Recorded and failing the run: console errors, uncaught page errors, failed requests and HTTP
// errors (except the allowed ones), images that did not load (naturalWidth 0).

import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

function usage(msg) {
  process.stderr.write(`page.mjs: ${msg}\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      base: { type: 'string' },
      token: { type: 'string', default: '' },
      mode: { type: 'string', default: 'photos' },
      photos: { type: 'string', default: '30' },
      state: { type: 'string', default: 'completed' },
      rise: { type: 'boolean', default: false },
      'at-once': { type: 'boolean', default: false },
      viewer: { type: 'boolean', default: false },
      'allow-http-error': { type: 'string', multiple: true, default: [] },
      screenshot: { type: 'string' },
      timeout: { type: 'string', default: '30000' },
      chromium: { type: 'string', default: process.env.PHOTOGEN_CHROMIUM || '/usr/bin/chromium' },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
if (!opts.base) usage('--base is required');
if (!['photos', 'invalid'].includes(opts.mode)) usage('--mode is photos or invalid');
const want = Number(opts.photos);
const timeout = Number(opts.timeout);
const allowed = new Set(opts['allow-http-error']);
const started = Date.now();

const result = {
  ok: false, mode: opts.mode, state: null, stateText: null, texts: [], counts: [],
  images: 0, loaded: 0, consoleErrors: [], pageErrors: [], failedRequests: [], httpErrors: [],
  problems: [], screenshot: null, elapsedMs: 0,
};

const pathOf = (url) => {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
};

// snapshot reads what a person would see, plus the page's data attributes.
function snapshot(page) {
  return page.evaluate(() => {
    const main = document.getElementById('main');
    const imgs = [...document.querySelectorAll('#photos img')];
    const invalid = document.getElementById('invalid');
    return {
      state: main.dataset.state,
      text: (invalid && !invalid.hidden ? invalid.querySelector('h2') : document.getElementById('state')).textContent.trim(),
      photos: imgs.length,
      loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
      broken: imgs.filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.alt),
      alts: imgs.map((i) => i.alt),
      invalid: invalid && !invalid.hidden ? invalid.textContent.replace(/\s+/g, ' ').trim() : null,
      progress: document.getElementById('progress').value,
      live: document.querySelectorAll('[aria-live]').length,
    };
  });
}

async function waitFor(page, done) {
  let last;
  while (Date.now() - started < timeout) {
    last = await snapshot(page);
    if (last.state !== 'loading') {
      if (result.counts.at(-1) !== last.photos) result.counts.push(last.photos);
      if (result.texts.at(-1) !== last.text) result.texts.push(last.text);
    }
    if (done(last)) return last;
    await page.waitForTimeout(50);
  }
  result.problems.push(`timed out after ${timeout} ms; last seen: ${JSON.stringify(last)}`);
  return last;
}

async function checkViewer(page) {
  // A keyboard user: Tab to the first photo, Enter, ArrowRight, Escape.
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.classList.contains('thumb'))) break;
  }
  const focused = await page.evaluate(() => document.activeElement?.querySelector('img')?.alt);
  if (focused !== `Photo 1 of ${want}`) {
    result.problems.push(`Tab did not reach photo 1 (focus on ${JSON.stringify(focused)})`);
    return;
  }
  await page.keyboard.press('Enter');
  const title = () => page.evaluate(() => document.getElementById('viewer').open && document.getElementById('viewer-title').textContent);
  await page.waitForFunction(() => {
    const img = document.getElementById('viewer-img');
    return document.getElementById('viewer').open && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 5000 }).catch(() => result.problems.push('Enter did not open photo 1 full size'));
  if ((await title()) !== `Photo 1 of ${want}`) result.problems.push(`viewer title ${JSON.stringify(await title())}, want Photo 1`);
  await page.keyboard.press('ArrowRight');
  if ((await title()) !== `Photo 2 of ${want}`) result.problems.push(`ArrowRight showed ${JSON.stringify(await title())}, want Photo 2`);
  await page.keyboard.press('Escape');
  // The dialog's close event, which moves the focus to the photo last shown, is a task of its
  // own: wait for it rather than race it.
  await page.waitForFunction((alt) => document.activeElement?.querySelector('img')?.alt === alt,
    `Photo 2 of ${want}`, { timeout: 2000 }).catch(() => {});
  const after = await page.evaluate(() => ({
    open: document.getElementById('viewer').open,
    focus: document.activeElement?.querySelector('img')?.alt,
  }));
  if (after.open) result.problems.push('Escape did not close the viewer');
  if (after.focus !== `Photo 2 of ${want}`) result.problems.push(`focus after Escape on ${JSON.stringify(after.focus)}, want photo 2`);
}

async function run(page) {
  const url = opts.token ? `${opts.base}/#token=${encodeURIComponent(opts.token)}` : `${opts.base}/`;
  await page.goto(url, { waitUntil: 'load', timeout });

  if (opts.mode === 'invalid') {
    const s = await waitFor(page, (s) => s.invalid !== null);
    result.state = s?.state;
    result.stateText = s?.text;
    if (!s?.invalid?.includes('This link is not valid')) result.problems.push('no "This link is not valid" message');
    if (s?.photos) result.problems.push(`${s.photos} photos shown for a link that is not valid`);
    if (opts.screenshot) {
      await page.screenshot({ path: opts.screenshot, fullPage: true });
      result.screenshot = opts.screenshot;
    }
    return;
  }

  const s = await waitFor(page, (s) => s.state === opts.state && s.photos === want && s.loaded === want
    || s.broken.length > 0 || s.invalid !== null || (s.state !== opts.state && ['completed', 'failed', 'refunded'].includes(s.state)));
  if (s.photos === want && s.loaded < want) {
    // Lazy images below the fold: scroll as a person would, then wait for them.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForFunction((n) => [...document.querySelectorAll('#photos img')].filter((i) => i.naturalWidth > 0).length === n, want, { timeout: 5000 }).catch(() => {});
    await page.evaluate(() => window.scrollTo(0, 0));
    Object.assign(s, await snapshot(page));
  }
  result.state = s.state;
  result.stateText = s.text;
  result.images = s.photos;
  result.loaded = s.loaded;
  if (s.invalid) result.problems.push(`the page says the link is not valid: ${s.invalid}`);
  if (s.state !== opts.state) result.problems.push(`state ${s.state}, want ${opts.state}`);
  if (s.photos !== want) result.problems.push(`${s.photos} images, want ${want}`);
  if (s.loaded !== want) result.problems.push(`${s.loaded} of ${s.photos} images loaded; broken: ${s.broken.join(', ')}`);
  const alts = s.alts.join('|');
  const wantAlts = Array.from({ length: want }, (_, i) => `Photo ${i + 1} of ${want}`).join('|');
  if (alts !== wantAlts) result.problems.push(`alt texts ${JSON.stringify(s.alts.slice(0, 3))}..., want "Photo 1 of ${want}"...`);
  if (s.progress !== want) result.problems.push(`progress value ${s.progress}, want ${want}`);
  if (s.live < 1) result.problems.push('no aria-live region');
  for (let i = 1; i < result.counts.length; i++) {
    if (result.counts[i] < result.counts[i - 1]) result.problems.push(`the count went down: ${result.counts.join(' ')}`);
  }
  if (opts.rise && !result.counts.some((c) => c > 0 && c < want)) {
    result.problems.push(`the count was never seen rising: ${result.counts.join(' ')}`);
  }
  if (opts['at-once'] && result.counts[0] !== want) {
    result.problems.push(`the first count shown was ${result.counts[0]}, want all ${want} at once`);
  }
  // The screenshot shows the page as it first settles, before the viewer check moves the focus.
  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    result.screenshot = opts.screenshot;
  }
  if (opts.viewer) await checkViewer(page);
}

async function main() {
  const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args: FLAGS, timeout });
  try {
    const context = await browser.newContext({
      viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light', reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const where = m.location()?.url || '';
      if (/^Failed to load resource/.test(m.text()) && allowed.has(pathOf(where))) return;
      result.consoleErrors.push({ text: m.text(), url: where });
    });
    page.on('pageerror', (e) => result.pageErrors.push(String(e)));
    page.on('requestfailed', (r) => result.failedRequests.push({ url: r.url(), error: r.failure()?.errorText }));
    page.on('response', (r) => {
      if (r.status() >= 400 && !allowed.has(pathOf(r.url()))) result.httpErrors.push({ url: r.url(), status: r.status() });
    });
    await run(page);
    await context.close();
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  result.problems.push(`driver: ${e.message.split('\n')[0]}`);
}
for (const [k, what] of [['consoleErrors', 'console error'], ['pageErrors', 'page error'], ['failedRequests', 'failed request'], ['httpErrors', 'HTTP error']]) {
  for (const x of result[k]) result.problems.push(`${what}: ${JSON.stringify(x)}`);
}
result.ok = result.problems.length === 0;
result.elapsedMs = Date.now() - started;
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
