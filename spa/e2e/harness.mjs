// Starts the real hitkeep binary on a free port with a temporary, seeded data directory, and
// Debian's Chromium through playwright-core. Used by dashboard.test.mjs.
//
// The binary serves the SPA itself (embedded from spa/dist/browser). A binary built before the
// embedding existed answers `/` with something else; then a small static server in front of it
// serves spa/dist/browser (SPA fallback) and forwards everything else to the binary, so the same
// tests run either way.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, extname, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, '../dist/browser');
const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'hitkeep', 'target');
export const BIN = process.env.HITKEEP_BIN || join(targetDir, 'release', 'hitkeep');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = join(here, 'screenshots');

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

export async function startServer({ site, events, days }) {
  if (!existsSync(BIN)) throw new Error(`no hitkeep binary at ${BIN} (set HITKEEP_BIN)`);
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no SPA build at ${DIST} (npm run build first)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'hk-spa-e2e-'));
  await run(BIN, ['seed', '--data-dir', dataDir, '--site', site, '--events', String(events), '--days', String(days)], { maxBuffer: 16 << 20 });
  const port = await freePort();
  let log = '';
  const proc = spawn(BIN, ['serve', '--http', `127.0.0.1:${port}`, '--data-dir', dataDir, '--batch-interval-ms', '50'], {
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
  const index = await fetch(`${api}/`).then((r) => r.text()).catch(() => '');
  let base = api;
  let front = null;
  if (!index.includes('<app-root')) {
    front = await staticFront(port);
    base = `http://127.0.0.1:${front.address().port}`;
  }
  return {
    base,
    api,
    dataDir,
    embedded: !front,
    log: () => log,
    async stop() {
      front?.close();
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(15000)]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject' };

function staticFront(upstream) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = join(DIST, decodeURIComponent(url.pathname));
    const isAsset = url.pathname !== '/' && file.startsWith(DIST) && existsSync(file) && extname(file);
    if (isAsset) return res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    const accept = req.headers.accept ?? '';
    if (req.method === 'GET' && !url.pathname.startsWith('/api/') && accept.includes('text/html')) {
      return res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache' }).end(readFileSync(join(DIST, 'index.html')));
    }
    const up = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
