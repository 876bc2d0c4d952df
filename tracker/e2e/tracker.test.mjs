// End-to-end tests of hk.js and hk-vitals.js: Debian's Chromium (driven by playwright-core)
// loads pages from a second origin, and the real hitkeep binary receives and stores the hits.
// After the browsing, the server is stopped (SIGTERM: it flushes) and `hitkeep export` says
// what was stored; every scenario uses its own paths, so the assertions are exact.
//
//   npm run build                      # tracker/dist, which the binary embeds at compile time
//   cargo build --release              # the binary (from the repository root)
//   npm test                           # this file
//
// The binary: $HITKEEP_BIN, else $CARGO_TARGET_DIR/release/hitkeep, else
// ~/.cache/hitkeep/target/release/hitkeep. Chromium: $CHROMIUM, else /usr/bin/chromium
// (scripts/ensure-chromium.sh installs it). HK_E2E_DUMP=1 prints the exported events.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'hitkeep', 'target');
const BIN = process.env.HITKEEP_BIN || join(targetDir, 'release', 'hitkeep');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SITE = 'shop.test';
// Sites of one visit each (s17): Plausible's own tracker on one, hk.js on the other.
const ONE_PAGE_SITES = ['blog.test', 'docs.test'];
// The operator token the tests read the Stats API with.
const API_TOKEN = 'tracker-e2e-token';
// Plausible's tracker as published on npm: the code of its current script, with engagement events.
const PLAUSIBLE_JS = createRequire(import.meta.url).resolve('@plausible-analytics/tracker');
// A desktop Chrome: Playwright's default says HeadlessChrome, a bot the server rightly drops.
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

// Automated browsers are skipped by hk.js (navigator.webdriver), and under Playwright it is true.
// We make it false in an init script rather than put data-allow-local on every page: the pages
// then carry the snippet exactly as a site owner pastes it, and one context without the override
// (the "automated browser" test) still proves the webdriver check and data-allow-local.
const NOT_WEBDRIVER = () => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false });

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// --- state shared by the phases -------------------------------------------------------------
let dataDir;
let hkPort;
let hkProc;
let hkLog = '';
let hkExit; // promise of the server's exit code
let shopServer;
let shopPort;
let browser;
const proxied = []; // "METHOD /path" of every request the sub-path proxy forwarded
const pageErrors = []; // uncaught errors in any test page: the tracker must never throw
let events = []; // `hitkeep export` rows, after the server stopped
let vitals = []; // or the Error of `hitkeep export --table web_vitals`
let engagements = []; // or the Error of `hitkeep export --table engagements`

const hkBase = () => `http://analytics.test:${hkPort}`;
const shop = (path) => `http://${SITE}:${shopPort}${path}`;

// --- the site: a static server on a second origin ------------------------------------------
// Pages are built from the path: the script tag's attributes come from the `attrs` query key
// (so each test states its snippet), the body from `BODIES`.
const BODIES = {
  '/s4/tagged': `<button id="cta" data-hk-event="cta_click" data-hk-prop-position="hero" data-hk-prop-variant="b"><span id="inner">Start</span></button>`,
  '/s5/outbound': `<a id="out" href="http://partner.test:PORT/pricing?ref=shop">Partner</a>`,
  '/s6/download': `<a id="dl" href="/files/report-2026.pdf">Report</a> <a id="local" href="/s6/other">Other page</a>`,
  '/s7/form': `<form id="f" action="/s7/thanks" method="post"><input name="email" value="a@b.c"><button id="send">Send</button></form>`,
  '/s13/vitals': `<h1 style="font-size:48px">Core Web Vitals</h1><p>Some text for a contentful paint.</p><button id="b">Button</button>`,
  // 5,000 px of page in a 720 px viewport: 60 % scroll depth is scrollY 2,280.
  '/s16/long': `<div style="height:5000px">Long read</div>`,
  '/s15/optout': `<a id="out" href="http://partner.test:PORT/x">Out</a> <a id="dl" href="/files/a.zip">Zip</a>
    <form id="f" action="/s15/optout-done" method="post"><button id="send">Send</button></form>`,
};

function page(path, query) {
  const attrs = query.get('attrs') || '';
  const src = query.get('src') || `${hkBase()}/hk.js`;
  const body = (BODIES[path] || `<p>${path}</p>`).replaceAll('PORT', shopPort);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${path}</title>
<script async src="${src}" ${attrs}></script></head><body>${body}</body></html>`;
}

function forward(req, res, path) {
  const up = http.request(
    { host: '127.0.0.1', port: hkPort, method: req.method, path, headers: { ...req.headers, host: `127.0.0.1:${hkPort}` } },
    (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', () => res.writeHead(502).end());
  req.pipe(up);
}

function startShop() {
  shopServer = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const host = (req.headers.host || '').split(':')[0];
    // Sub-path install: hk.js served from /stats/, its hits forwarded to the hitkeep server.
    if (url.pathname.startsWith('/stats/')) {
      proxied.push(`${req.method} ${url.pathname}`);
      return forward(req, res, url.pathname.slice('/stats'.length) + url.search);
    }
    // Plausible's tracker, started the way its README says (init with a domain and an endpoint).
    if (url.pathname === '/vendor/plausible.js' || url.pathname === '/vendor/plausible-init.js') {
      const init = `import('/vendor/plausible.js').then((m) => m.init({ domain: location.hostname, endpoint: '${hkBase()}/api/event' }));`;
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      return res.end(url.pathname.endsWith('init.js') ? init : readFileSync(PLAUSIBLE_JS));
    }
    if (url.pathname.startsWith('/files/')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment' });
      return res.end('file');
    }
    req.resume();
    const html = host === 'partner.test' ? '<!doctype html><p>partner</p>' : page(url.pathname, url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  return new Promise((resolve) => shopServer.listen(0, '127.0.0.1', () => resolve(shopServer.address().port)));
}

// --- the hitkeep server ------------------------------------------------------------------------
async function startHitkeep() {
  dataDir = mkdtempSync(join(tmpdir(), 'hk-e2e-'));
  for (const site of [SITE, ...ONE_PAGE_SITES]) await run(BIN, ['site', 'add', site, '--data-dir', dataDir]);
  hkPort = await freePort();
  hkProc = spawn(BIN, ['serve', '--http', `127.0.0.1:${hkPort}`, '--data-dir', dataDir, '--batch-interval-ms', '50', '--api-token', API_TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hkProc.stdout.on('data', (d) => (hkLog += d));
  hkProc.stderr.on('data', (d) => (hkLog += d));
  hkExit = new Promise((resolve) => hkProc.on('exit', (code, signal) => resolve(code ?? signal)));
  for (let i = 0; i < 150; i++) {
    if (hkProc.exitCode !== null) break;
    try {
      const r = await fetch(`http://127.0.0.1:${hkPort}/readyz`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`hitkeep serve did not become ready on /readyz:\n${hkLog}`);
}

async function stopHitkeepAndExport() {
  hkProc.kill('SIGTERM');
  const code = await Promise.race([hkExit, sleep(20000).then(() => 'timeout')]);
  assert.equal(code, 0, `hitkeep serve should exit 0 on SIGTERM (got ${code}):\n${hkLog}`);
  const exp = async (...extra) => {
    const { stdout } = await run(BIN, ['export', '--site', SITE, '--data-dir', dataDir, '--format', 'ndjson', ...extra], {
      maxBuffer: 64 << 20,
    });
    return stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  };
  events = await exp();
  if (process.env.HK_E2E_DUMP) console.log(JSON.stringify(events, null, 1));
  // Kept apart so that a failing vitals export fails only the vitals test.
  vitals = await exp('--table', 'web_vitals').catch((e) => e);
  engagements = await exp('--table', 'engagements').catch((e) => e);
}

// --- the browser -------------------------------------------------------------------------------
async function newContext({ notWebdriver = true, initScripts = [], ...options } = {}) {
  const ctx = await browser.newContext({
    userAgent: USER_AGENT,
    locale: 'de-DE',
    viewport: { width: 1280, height: 720 },
    screen: { width: 1920, height: 1080 },
    ...options,
  });
  if (notWebdriver) await ctx.addInitScript(NOT_WEBDRIVER);
  for (const s of initScripts) await ctx.addInitScript(s);
  return ctx;
}

// A page that records the tracker's requests (to any /ingest path) and uncaught errors.
// Engagement reports (sent after a second of visibility, on hide and leave) are kept apart in
// `p.engagements`, so the hit counts of the scenarios do not depend on how long they took.
async function openPage(ctx) {
  const p = await ctx.newPage();
  p.hits = [];
  p.engagements = [];
  p.pending = new Set();
  const isHit = (r) => r.method() === 'POST' && /\/ingest(\/|$)/.test(new URL(r.url()).pathname);
  p.on('request', (r) => {
    if (!isHit(r)) return;
    if (/"n":"engagement"/.test(r.postData() || '')) p.engagements.push(JSON.parse(r.postData()));
    else p.hits.push(new URL(r.url()).pathname);
    p.pending.add(r);
  });
  p.on('requestfinished', (r) => p.pending.delete(r));
  p.on('requestfailed', (r) => p.pending.delete(r));
  p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  return p;
}

// Waits until the page has sent `n` tracker requests in all, and (briefly) until the server has
// answered them: hits in flight together may be stored in any order.
async function hits(p, n, ms = 5000) {
  for (const end = Date.now() + ms; p.hits.length < n && Date.now() < end; ) await sleep(25);
  assert.ok(p.hits.length >= n, `expected ${n} tracker requests, saw ${p.hits.length}: ${p.hits.join(', ')}`);
  for (const end = Date.now() + 1000; p.pending.size && Date.now() < end; ) await sleep(10);
}

/** Stats API v2 `metrics` of today for `site` by page, once `done(row)` holds (or after 8 s). */
async function pageStats(site, metrics, done) {
  let rows = [];
  for (const end = Date.now() + 8000; Date.now() < end; await sleep(100)) {
    const body = { site_id: site, date_range: 'day', metrics, dimensions: ['event:page'] };
    const r = await fetch(`http://127.0.0.1:${hkPort}/api/v2/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    rows = (await r.json()).results ?? [];
    if (rows.length && done(Object.fromEntries(metrics.map((m, i) => [m, rows[0].metrics[i]])))) break;
  }
  return rows.map((r) => ({ page: r.dimensions[0], ...Object.fromEntries(metrics.map((m, i) => [m, r.metrics[i]])) }));
}

const attrs = (s) => `?attrs=${encodeURIComponent(s)}`;
const whereName = (name, prefix) => events.filter((e) => e.name === name && String(e.pathname).startsWith(prefix));
const under = (prefix) => events.filter((e) => String(e.pathname).startsWith(prefix));

describe('hk.js in Chromium against the hitkeep server', () => {
  before(async () => {
    assert.ok(existsSync(BIN), `no hitkeep binary at ${BIN}: build it (cargo build --release) or set HITKEEP_BIN`);
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: run tracker/scripts/ensure-chromium.sh`);
    await startHitkeep();
    shopPort = await startShop();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // launch() gives every run a fresh temporary profile (user data dir).
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Also browser-wide: a beacon or keepalive fetch sent while a page unloads leaves without
        // the context's override (seen: web-vitals beacons said HeadlessChrome and were dropped).
        `--user-agent=${USER_AGENT}`,
        // Real cross-origin host names on loopback; any other name fails without a DNS query.
        '--host-resolver-rules=MAP shop.test 127.0.0.1, MAP analytics.test 127.0.0.1, MAP partner.test 127.0.0.1, MAP blog.test 127.0.0.1, MAP docs.test 127.0.0.1, MAP * ~NOTFOUND',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    shopServer?.close();
    if (hkProc && hkProc.exitCode === null) hkProc.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  // Phase 1: browse. Each test checks what the browser sent (or did not send).
  describe('browsing', () => {
    let ctx; // the ordinary visitor
    before(async () => {
      ctx = await newContext();
    });
    after(async () => ctx?.close());

    it('s1: the first pageview, with referrer and UTM tags', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s1/landing?utm_source=newsletter&utm_medium=email&utm_campaign=launch'), {
        referer: 'https://www.google.com/',
      });
      await hits(p, 1);
      assert.deepEqual(p.hits, ['/ingest']);
      await p.close();
    });

    it('s2: SPA navigations (pushState, replaceState), a repeated path, and the back button', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s2/app'));
      await hits(p, 1);
      // One at a time: hits sent together may reach the server in any order.
      const push = (path) => p.evaluate((x) => history.pushState({}, '', x), path);
      await push('/s2/a');
      await hits(p, 2);
      await push('/s2/b');
      await hits(p, 3);
      await push('/s2/b'); // the same path twice in a row: one pageview
      await push('/s2/c');
      await hits(p, 4);
      await p.goBack(); // popstate: back on /s2/b
      await hits(p, 5);
      assert.equal(await p.evaluate(() => location.pathname), '/s2/b');
      // A router redirect with replaceState is a new page; a replaceState that only changes
      // the query string or state is not.
      await p.evaluate(() => history.replaceState({}, '', '/s2/d'));
      await hits(p, 6);
      await p.evaluate(() => history.replaceState({ tab: 2 }, '', '/s2/d?tab=2'));
      await sleep(200);
      assert.equal(p.hits.length, 6);
      await p.close();
    });

    it('s3: hk.event with properties, and hk.notFound', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s3/pricing'));
      await hits(p, 1);
      await p.evaluate(() => window.hk.event('signup', { plan: 'pro', seats: '3' }));
      await p.evaluate(() => window.hk.event('no_props'));
      await hits(p, 3);
      await p.goto(shop('/s3/missing-page'));
      await hits(p, 4);
      await p.evaluate(() => window.hk.notFound());
      await hits(p, 5);
      await p.close();
    });

    it('s4: a click inside a data-hk-event element', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s4/tagged'));
      await hits(p, 1);
      await p.click('#inner');
      await hits(p, 2);
      assert.equal(p.hits[1], '/ingest/event');
      await p.close();
    });

    it('s5: an outbound link click, and the link still navigates', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s5/outbound'));
      await hits(p, 1);
      await Promise.all([p.waitForURL(/partner\.test/), p.click('#out')]);
      await hits(p, 2);
      await p.close();
    });

    it('s6: a file download click; a same-host page link is no event', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s6/download'));
      await hits(p, 1);
      const [download] = await Promise.all([p.waitForEvent('download'), p.click('#dl')]);
      await download.cancel().catch(() => {});
      await hits(p, 2);
      await Promise.all([p.waitForURL(/\/s6\/other/), p.click('#local')]);
      await hits(p, 3); // the next page's pageview, and no event for the click
      assert.deepEqual(p.hits, ['/ingest', '/ingest/event', '/ingest']);
      await p.close();
    });

    it('s7: a form submit', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s7/form'));
      await hits(p, 1);
      await Promise.all([p.waitForURL(/\/s7\/thanks/), p.click('#send')]);
      await hits(p, 3); // form_submit, then the pageview of /s7/thanks
      await p.close();
    });

    it('s10: a sub-path install posts relative to its own URL (/stats/ingest)', async () => {
      const p = await openPage(ctx);
      await p.goto(shop(`/s10/subpath?src=${encodeURIComponent(shop('/stats/hk.js'))}`));
      await hits(p, 1);
      await p.evaluate(() => window.hk.event('subpath_event'));
      await hits(p, 2);
      assert.deepEqual(p.hits, ['/stats/ingest', '/stats/ingest/event']);
      assert.ok(proxied.includes('GET /stats/hk.js'), proxied.join(', '));
      assert.ok(proxied.includes('POST /stats/ingest'), proxied.join(', '));
      await p.close();
    });

    it('s13: Core Web Vitals with data-web-vitals (hk-vitals.js)', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s13/vitals' + attrs('data-web-vitals')));
      await hits(p, 1);
      // FCP and TTFB are reported at once.
      for (const end = Date.now() + 5000; Date.now() < end; await sleep(25))
        if (p.hits.filter((h) => h === '/ingest/web-vitals').length >= 2) break;
      assert.ok(p.hits.filter((h) => h === '/ingest/web-vitals').length >= 2, p.hits.join(', '));
      await p.click('#b'); // an input finalises LCP
      await sleep(300);
      // Leaving the page hides it: LCP (if not sent yet), CLS and INP (if any) go then, by beacon.
      // Playwright does not see those unload beacons; the server-side test checks them.
      await p.goto(shop('/s13/after'));
      await sleep(500);
      await p.close();
    });

    it('s13b: HitKeep\'s data-enable-web-vitals loads hk-vitals.js too', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s13b/vitals' + attrs('data-enable-web-vitals="true"')));
      await hits(p, 2); // the pageview and at least TTFB/FCP
      assert.ok(p.hits.includes('/ingest/web-vitals'), p.hits.join(', '));
      await p.close();
    });

    it('s14: data-hash counts hash navigations as pages', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s14/app' + attrs('data-hash')));
      await hits(p, 1);
      await p.evaluate(() => (location.hash = '#/settings'));
      await hits(p, 2);
      await p.evaluate(() => (location.hash = '#/settings')); // unchanged: nothing
      await sleep(300);
      assert.equal(p.hits.length, 2);
      await p.close();
    });

    it('s16: scrolled to 60 % and visible ~3 s, then left (the report is checked once stored)', async () => {
      const p = await openPage(ctx);
      await p.goto(shop('/s16/long'));
      await hits(p, 1);
      await p.evaluate(() => scrollTo(0, 0.6 * document.body.scrollHeight - innerHeight));
      await sleep(3000);
      // pagehide reports the page left. Playwright does not show the page a request its old
      // document sends while unloading, so the stored-by-the-server phase checks what arrived.
      await p.goto(shop('/s16/next'));
      await hits(p, 2);
      assert.deepEqual(p.engagements, [], 'no report while the page was visible and focused');
      await sleep(500);
      await p.close();
    });

    // Plausible's acceptance: its current tracker and hk.js, each the one page of a visit (a site of
    // its own: visitors are per site), scrolled to 60 % and visible ~3 s, then left.
    for (const [site, script] of [
      ['blog.test', "Plausible's tracker"],
      ['docs.test', 'hk.js'],
    ]) {
      it(`s17: ${script} reports scroll depth 60 +- 5 and ~3 s engaged; the one-page visit bounces`, async () => {
        const p = await openPage(ctx);
        const src = site === 'blog.test' ? '/vendor/plausible-init.js' : `${hkBase()}/hk.js`;
        await p.goto(`http://${site}:${shopPort}/s16/long?src=${encodeURIComponent(src)}`);
        const seen = await pageStats(site, ['pageviews'], (m) => m.pageviews === 1);
        assert.equal(seen[0]?.pageviews, 1, `the pageview arrived: ${JSON.stringify(seen)}`);
        await p.evaluate(() => scrollTo(0, 0.6 * document.body.scrollHeight - innerHeight));
        await sleep(3000);
        await p.goto('about:blank');
        await sleep(300);
        await p.close();
        const metrics = ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'scroll_depth', 'time_on_page'];
        const rows = await pageStats(site, metrics, (m) => m.scroll_depth != null);
        assert.equal(rows.length, 1, JSON.stringify(rows));
        const [r] = rows;
        assert.deepEqual([r.page, r.visitors, r.visits, r.pageviews, r.events, r.bounce_rate], ['/s16/long', 1, 1, 1, 1, 100], JSON.stringify(r));
        assert.ok(Math.abs(r.scroll_depth - 60) <= 5, `scroll depth ${r.scroll_depth}`);
        assert.ok(Math.abs(r.time_on_page - 3) <= 1, `time on page ${r.time_on_page} s`);
      });
    }

    it('s15: the data-disable-* opt-outs', async () => {
      const p = await openPage(ctx);
      const flags =
        'data-disable-spa-tracking data-disable-outbound-tracking data-disable-download-tracking data-disable-form-tracking';
      await p.goto(shop('/s15/optout' + attrs(flags)));
      await hits(p, 1);
      await p.evaluate(() => history.pushState({}, '', '/s15/optout-spa'));
      const [download] = await Promise.all([p.waitForEvent('download'), p.click('#dl')]);
      await download.cancel().catch(() => {});
      await p.evaluate(() => window.hk.event('still_manual'));
      await hits(p, 2);
      await Promise.all([p.waitForURL(/\/s15\/optout-done/), p.click('#send')]);
      await hits(p, 3); // the pageview of the next page, no form_submit
      await p.goto(shop('/s15/optout' + attrs(flags)));
      await hits(p, 4);
      await Promise.all([p.waitForURL(/partner\.test/), p.click('#out')]);
      await sleep(300);
      assert.deepEqual(p.hits, ['/ingest', '/ingest/event', '/ingest', '/ingest']);
      await p.close();
    });

    // Visitors whose signals say "do not count me": nothing may leave the browser.
    const nothingSent = async (ctxOptions, path) => {
      const c = await newContext(ctxOptions);
      const p = await openPage(c);
      await p.goto(shop(path));
      await p.waitForFunction(() => window.hk); // the script ran
      await p.evaluate(() => {
        window.hk.event('should_not_send', { a: '1' });
        history.pushState({}, '', location.pathname + '-spa');
      });
      await sleep(700);
      assert.deepEqual(p.hits, []);
      await c.close();
    };

    it('s8: Do Not Track (navigator.doNotTrack and the DNT header) sends nothing', () =>
      nothingSent(
        {
          extraHTTPHeaders: { DNT: '1' },
          initScripts: [() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })],
        },
        '/s8/dnt',
      ));

    it('s8b: data-collect-dnt counts a DNT visitor', async () => {
      // navigator.doNotTrack only (no header), so this checks the tracker's own decision.
      const c = await newContext({
        initScripts: [() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })],
      });
      const p = await openPage(c);
      await p.goto(shop('/s8b/collect' + attrs('data-collect-dnt="true"')));
      await hits(p, 1);
      await c.close();
    });

    it('s9: Global Privacy Control (navigator.globalPrivacyControl and Sec-GPC) sends nothing', () =>
      nothingSent(
        {
          extraHTTPHeaders: { 'Sec-GPC': '1' },
          initScripts: [() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })],
        },
        '/s9/gpc',
      ));

    it('s9b: GPC wins over data-collect-dnt', () =>
      nothingSent(
        { initScripts: [() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })] },
        '/s9b/gpc' + attrs('data-collect-dnt'),
      ));

    it('s11: localStorage hk_ignore=true (the owner\'s own browser) sends nothing', () =>
      nothingSent({ initScripts: [() => localStorage.setItem('hk_ignore', 'true')] }, '/s11/ignored'));

    it('s12: an automated browser (navigator.webdriver) sends nothing', () =>
      nothingSent({ notWebdriver: false }, '/s12/robot'));

    it('s12b: ... unless the snippet has data-allow-local', async () => {
      const c = await newContext({ notWebdriver: false });
      const p = await openPage(c);
      await p.goto(shop('/s12b/allowed' + attrs('data-allow-local')));
      await hits(p, 1);
      await c.close();
    });

    it('no page had an uncaught error', async () => {
      await sleep(1000); // let the last hits reach the server before it stops
      assert.deepEqual(pageErrors, []);
    });
  });

  // Phase 2: stop the server (it flushes) and check what it stored.
  describe('stored by the server (hitkeep export)', () => {
    before(stopHitkeepAndExport);

    it('s1: the first pageview, with referrer, UTM tags and the visitor\'s traits', () => {
      const rows = under('/s1/');
      assert.equal(rows.length, 1, JSON.stringify(rows));
      const e = rows[0];
      assert.equal(e.name, 'pageview');
      assert.equal(e.pathname, '/s1/landing');
      assert.equal(e.hostname, SITE);
      assert.match(String(e.referrer), /google\.com/); // the server may keep only the host
      assert.equal(e.referrer_source, 'newsletter'); // utm_source wins over the referrer (Plausible's rule)
      assert.equal(e.utm_source, 'newsletter');
      assert.equal(e.utm_medium, 'email');
      assert.equal(e.utm_campaign, 'launch');
      assert.match(String(e.browser), /chrome/i);
      assert.match(String(e.os), /linux/i);
      assert.match(String(e.device), /desktop/i);
      assert.ok(e.screen, 'screen is set');
      assert.match(String(e.language), /^de/i);
      assert.ok(e.visitor_id, 'visitor_id is set');
      assert.ok(e.visit_id, 'visit_id is set');
    });

    it('s2: SPA pageviews in order, the repeated path once, the back button', () => {
      const rows = under('/s2/');
      assert.deepEqual(
        rows.map((e) => [e.name, e.pathname]),
        [
          ['pageview', '/s2/app'],
          ['pageview', '/s2/a'],
          ['pageview', '/s2/b'],
          ['pageview', '/s2/c'],
          ['pageview', '/s2/b'],
          ['pageview', '/s2/d'],
        ],
      );
      assert.equal(new Set(rows.map((e) => e.visit_id)).size, 1, 'one visit');
    });

    it('s3: custom events with properties, and the 404 helper', () => {
      const signup = whereName('signup', '/s3/');
      assert.equal(signup.length, 1);
      assert.equal(signup[0].pathname, '/s3/pricing');
      assert.deepEqual(signup[0].props, { plan: 'pro', seats: '3' });
      const bare = whereName('no_props', '/s3/');
      assert.equal(bare.length, 1);
      assert.deepEqual(bare[0].props ?? {}, {});
      const nf = whereName('404', '/s3/');
      assert.equal(nf.length, 1);
      assert.equal(nf[0].pathname, '/s3/missing-page');
      assert.deepEqual(nf[0].props, { path: '/s3/missing-page' });
      const pv = whereName('pageview', '/s3/');
      assert.equal(pv.length, 2);
      assert.equal(new Set([...pv, ...signup, ...nf].map((e) => e.visit_id)).size, 1, 'events join the visit');
    });

    it('s4: the data-hk-event click with its data-hk-prop-* properties', () => {
      const rows = whereName('cta_click', '/s4/');
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0].props, { position: 'hero', variant: 'b' });
      assert.equal(rows[0].pathname, '/s4/tagged');
    });

    it('s5: outbound_click with target_host and target_path', () => {
      const rows = whereName('outbound_click', '/s5/');
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0].props, { target_host: 'partner.test', target_path: '/pricing' });
    });

    it('s6: file_download with file_host, file_path and file_ext', () => {
      const rows = whereName('file_download', '/s6/');
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0].props, { file_host: SITE, file_path: '/files/report-2026.pdf', file_ext: 'pdf' });
      assert.deepEqual(
        under('/s6/').map((e) => [e.name, e.pathname]),
        [
          ['pageview', '/s6/download'],
          ['file_download', '/s6/download'],
          ['pageview', '/s6/other'],
        ],
      );
    });

    it('s7: form_submit, then the next page', () => {
      assert.deepEqual(
        under('/s7/').map((e) => [e.name, e.pathname]),
        [
          ['pageview', '/s7/form'],
          ['form_submit', '/s7/form'],
          ['pageview', '/s7/thanks'],
        ],
      );
    });

    it('s8, s9, s11, s12: privacy signals and exclusions stored nothing', () => {
      for (const prefix of ['/s8/', '/s9/', '/s9b/', '/s11/', '/s12/']) assert.deepEqual(under(prefix), [], prefix);
      assert.deepEqual(
        events.filter((e) => e.name === 'should_not_send'),
        [],
      );
    });

    it('s8b, s12b: data-collect-dnt and data-allow-local pages were stored', () => {
      assert.equal(whereName('pageview', '/s8b/collect').length, 1);
      assert.equal(whereName('pageview', '/s12b/allowed').length, 1);
    });

    it('s10: the sub-path install\'s pageview and event', () => {
      assert.deepEqual(
        under('/s10/').map((e) => [e.name, e.pathname]),
        [
          ['pageview', '/s10/subpath'],
          ['subpath_event', '/s10/subpath'],
        ],
      );
    });

    it('s16: scroll depth 60 +- 5 and engaged 3 +- 1 s stored for the page, no engagement event', () => {
      assert.ok(Array.isArray(engagements), `engagements export failed: ${engagements}`);
      const long = engagements.filter((e) => e.pathname === '/s16/long');
      assert.equal(long.length, 1, JSON.stringify(engagements));
      assert.ok(Math.abs(long[0].scroll_depth - 60) <= 5, `scroll depth ${long[0].scroll_depth}`);
      assert.ok(Math.abs(long[0].engaged_ms - 3000) <= 1000, `engaged ${long[0].engaged_ms} ms`);
      const pv = whereName('pageview', '/s16/long');
      assert.equal(pv.length, 1);
      assert.equal(long[0].visit_id, pv[0].visit_id, 'the report joins the visit of its pageview');
      assert.deepEqual(events.filter((e) => e.name === 'engagement'), [], 'engagement is never an event');
    });

    it('s13: web vitals stored for the page that loaded', () => {
      if (vitals instanceof Error) throw vitals;
      const rows = vitals.filter((v) => v.pathname === '/s13/vitals');
      const metrics = new Set(rows.map((v) => v.metric));
      for (const m of ['FCP', 'TTFB', 'LCP', 'CLS']) assert.ok(metrics.has(m), `${m} in ${[...metrics]}`);
      for (const v of rows) assert.ok(typeof v.value === 'number' && v.value >= 0, JSON.stringify(v));
      assert.ok(vitals.some((v) => v.pathname === '/s13b/vitals'), 'data-enable-web-vitals page');
    });

    it('s14: hash navigations counted with data-hash', () => {
      assert.equal(whereName('pageview', '/s14/app').length, 2);
    });

    it('s15: with every data-disable-* flag only pageviews and manual events', () => {
      assert.deepEqual(
        under('/s15/').map((e) => [e.name, e.pathname]),
        [
          ['pageview', '/s15/optout'],
          ['still_manual', '/s15/optout-spa'],
          ['pageview', '/s15/optout-done'],
          ['pageview', '/s15/optout'],
        ],
      );
    });
  });
});
