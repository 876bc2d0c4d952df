// Fails when a language lacks a key of the English dictionary (or has one English does not, or an
// empty text, or loses a {placeholder}). Part of `npm test`, so a missing translation fails the build.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../src/app/core/i18n');
const load = (f) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const en = load('en.json');
const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
const problems = [];
const langs = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'en.json');
// Every language the switch offers (LANGS in core/i18n.ts) has a dictionary, and no other file is loaded.
const offered = [...readFileSync(join(dir, '../i18n.ts'), 'utf8').matchAll(/\{ id: '([\w-]+)', label:/g)].map((m) => m[1]);
for (const id of offered) if (id !== 'en' && !langs.includes(`${id}.json`)) problems.push(`${id}: offered in LANGS but ${id}.json is missing`);
for (const f of langs) if (!offered.includes(f.replace('.json', ''))) problems.push(`${f}: not offered in LANGS`);
if (offered.length !== 7) problems.push(`LANGS offers ${offered.length} languages, expected 7`);
for (const f of langs) {
  const d = load(f);
  for (const k of Object.keys(en)) {
    if (!(k in d)) problems.push(`${f}: missing "${k}"`);
    else if (!String(d[k]).trim()) problems.push(`${f}: empty "${k}"`);
    else if (holes(d[k]) !== holes(en[k])) problems.push(`${f}: "${k}" has placeholders {${holes(d[k])}}, English {${holes(en[k])}}`);
  }
  for (const k of Object.keys(d)) if (!(k in en)) problems.push(`${f}: unknown key "${k}"`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`i18n: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`i18n: ${langs.length} languages x ${Object.keys(en).length} keys, complete`);
