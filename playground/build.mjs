// Bundles the playground into dist/ (run by `cargo xtask playground`, which
// first puts the wasm-bindgen package in pkg/ and the gallery in dist/).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const out = 'dist';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/main.js'],
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['chrome110', 'firefox115', 'safari16'],
  outfile: `${out}/app.js`,
  logLevel: 'warning',
});
copyFileSync('index.html', `${out}/index.html`);
copyFileSync('src/style.css', `${out}/style.css`);
copyFileSync('pkg/imgverify_bg.wasm', `${out}/imgverify_bg.wasm`);
console.log(`playground built in ${out}/`);
