import { defineConfig } from 'rolldown';

// Two self-contained IIFE bundles, minified; the Rust binary embeds dist/ and serves them.
// es2020 keeps the output readable by every browser from 2020 on (Chrome 80, Safari 13.1, Firefox 74).
const common = {
  transform: { target: 'es2020' },
  treeshake: true,
};
const output = (file) => ({
  file,
  format: 'iife',
  minify: { compress: { target: 'es2020' }, mangle: { toplevel: true } },
  comments: { legal: false, annotation: false, jsdoc: false },
});

export default defineConfig([
  { ...common, input: 'src/hk.ts', output: output('dist/hk.js') },
  { ...common, input: 'src/hk-vitals.ts', output: output('dist/hk-vitals.js') },
]);
