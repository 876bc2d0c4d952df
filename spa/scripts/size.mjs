// Prints the gzip size of the initial bundle (what index.html loads before any lazy route) and
// of the whole build; fails above the 350 KB gzip budget for the initial bundle.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist/browser');
const index = readFileSync(join(dist, 'index.html'), 'utf8');
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;

// index.html names the entry scripts, styles and modulepreloads: that is the initial set.
const initial = new Set([...index.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]));
let initialGz = gz('index.html');
for (const f of initial) initialGz += gz(f);
const all = readdirSync(dist).filter((f) => /\.(js|css)$/.test(f));
const allGz = all.reduce((n, f) => n + gz(f), 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`initial: ${initial.size} files + index.html, ${kb(initialGz)} gzip (budget 350 KB)`);
console.log(`whole app: ${all.length} js/css files, ${kb(allGz)} gzip`);
if (initialGz > 350 * 1024) {
  console.error('initial bundle over budget');
  process.exit(1);
}
