// Prints the raw and gzip -9 sizes of the built tracker bundles; fails when hk.js is over budget.
import { readFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET = 1100; // bytes, gzip -9, hk.js only
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
let over = false;
for (const name of ['hk.js', 'hk-vitals.js']) {
  const buf = readFileSync(join(dist, name));
  const gz = gzipSync(buf, { level: constants.Z_BEST_COMPRESSION }).length;
  const budget = name === 'hk.js' ? ` (budget ${BUDGET})` : '';
  console.log(`${name.padEnd(13)} ${String(buf.length).padStart(6)} B raw  ${String(gz).padStart(6)} B gzip -9${budget}`);
  if (name === 'hk.js' && gz > BUDGET) {
    console.error(`hk.js is ${gz} B gzipped: over the ${BUDGET} B budget`);
    over = true;
  }
}
process.exit(over ? 1 : 0);
