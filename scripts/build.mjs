#!/usr/bin/env node
// Bundles every action entrypoint with @vercel/ncc into dist/<action>/{index,post}.js.
// `node scripts/build.mjs [action...]` rebuilds only the named actions.
// The output is deterministic, so CI can rebuild and compare with what is committed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, cpSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const all = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`unknown action '${name}' (have: ${all.join(', ')})`);
    process.exit(2);
  }
}

for (const action of wanted.length ? wanted : all) {
  const out = join(root, 'dist', action);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const entry of ['main', 'post']) {
    const src = join(root, 'actions', action, `${entry}.ts`);
    if (!existsSync(src)) continue;
    const tmp = join(root, 'dist', `.tmp-${action}-${entry}`);
    rmSync(tmp, { recursive: true, force: true });
    execFileSync(ncc, ['build', src, '-o', tmp, '--minify', '--no-source-map-register', '--license', 'licenses.txt', '-q'], {
      stdio: 'inherit',
      cwd: root,
    });
    for (const file of readdirSync(tmp)) {
      const target = file === 'index.js' ? (entry === 'main' ? 'index.js' : 'post.js') : file;
      if (file === 'package.json') continue;
      if (existsSync(join(out, target)) && target !== 'index.js' && target !== 'post.js') {
        rmSync(join(tmp, file), { recursive: true, force: true });
        continue; // shared assets (licenses, wasm) already copied by the main entry
      }
      if (target === 'post.js' || target === 'index.js') renameSync(join(tmp, file), join(out, target));
      else cpSync(join(tmp, file), join(out, target), { recursive: true });
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`built dist/${action}`);
}
