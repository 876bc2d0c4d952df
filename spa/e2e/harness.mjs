// Starts the real hitkeep binary on a free port with a temporary, seeded data directory, and
// Debian's Chromium through playwright-core. Used by dashboard.test.mjs.
//
// The binary serves the SPA itself (embedded from spa/dist/browser, with the index.html fallback for
// app routes): the tests drive exactly what ships.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { deepEqual } from 'node:assert/strict';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, '../dist/browser');
const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'hitkeep', 'target');
export const BIN = process.env.HITKEEP_BIN || join(targetDir, 'release', 'hitkeep');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = join(here, 'screenshots');

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Starts the binary; `port` fixes its port (a redirect URI must name it), `args` adds serve flags. */
export async function startServer({ site, events, days, port: fixedPort, args = [] }) {
  if (!existsSync(BIN)) throw new Error(`no hitkeep binary at ${BIN} (set HITKEEP_BIN)`);
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no SPA build at ${DIST} (npm run build first)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'hk-spa-e2e-'));
  await run(BIN, ['seed', '--data-dir', dataDir, '--site', site, '--events', String(events), '--days', String(days)], { maxBuffer: 16 << 20 });
  const port = fixedPort ?? (await freePort());
  let log = '';
  const proc = spawn(BIN, ['serve', '--http', `127.0.0.1:${port}`, '--data-dir', dataDir, '--batch-interval-ms', '50', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r(code ?? signal)));
  const api = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null || i > 150) throw new Error(`hitkeep serve did not become ready:\n${log}`);
    try {
      if ((await fetch(`${api}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  // E2E_SPA_DIST=1: serve spa/dist/browser in front of the binary (iterating on the SPA without
  // re-embedding it); the final runs use the embedded build.
  const front = process.env.E2E_SPA_DIST === '1' ? await serveDist(api) : null;
  const index = await fetch(`${front?.url ?? api}/`).then((r) => r.text()).catch(() => '');
  if (!index.includes('<app-root')) {
    proc.kill('SIGTERM');
    throw new Error(`${BIN} does not serve the dashboard at / (rebuild it after npm run build: make build)`);
  }
  const base = front?.url ?? api;
  return {
    base,
    api,
    dataDir,
    log: () => log,
    async stop() {
      front?.server.close();
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(15000)]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls `/api` from inside the page (its session cookie, its origin); the JSON answer, or throws. */
export const apiIn = (p, method, path, body) =>
  p.evaluate(
    async ([m, u, b]) => {
      const r = await fetch(`/api${u}`, { method: m, headers: { 'content-type': 'application/json' }, body: b ? JSON.stringify(b) : undefined });
      if (!r.ok) throw new Error(`${m} ${u} ${r.status}: ${await r.text()}`);
      return r.status === 204 ? null : r.json();
    },
    [method, path, body],
  );

/** Retries `fn` until its value deep-equals `expected` (15 s by default), then asserts it. */
export async function eventually(fn, expected, message, ms = 15000) {
  let last;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      last = await fn();
      deepEqual(last, expected);
      return;
    } catch {
      await sleep(150);
    }
  }
  deepEqual(last, expected, message);
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml', '.json': 'application/json', '.ico': 'image/x-icon' };

/** A same-origin front: files from dist/browser (index.html for app routes), everything else to the binary. */
async function serveDist(api) {
  const { createServer, request } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const { extname } = await import('node:path');
  const backend = new URL(api);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const toBackend = /^\/(api|ingest|hk\.js|readyz|healthz|metrics)/.test(path);
    if (!toBackend) {
      const asset = /\.(js|css|svg|png|ico|json|woff2?|txt)$/.test(path);
      const file = asset && join(DIST, path).startsWith(DIST) ? join(DIST, path) : join(DIST, 'index.html');
      const body = await readFile(file).catch(() => null);
      if (body) {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        return res.end(body);
      }
    }
    const fwd = request({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${port}` };
}
