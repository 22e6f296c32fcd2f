#!/usr/bin/env node
// Cold start of each dist bundle under Node 24: the time until it has parsed its
// inputs and fails on a bad one (its first decision), next to `node -e 0`, which is
// the floor. The internal service bundles (upload-artifact, attest) stop on their empty
// request instead. Prints bundle size too (target: under 2 MB each).
//   node bench/startup.mjs [runs]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const runs = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
for (const f of ['output', 'state', 'summary', 'env', 'path']) writeFileSync(join(dir, f), '');
const env = {
  PATH: process.env.PATH,
  GITHUB_OUTPUT: join(dir, 'output'),
  GITHUB_STATE: join(dir, 'state'),
  GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  GITHUB_ENV: join(dir, 'env'),
  GITHUB_PATH: join(dir, 'path'),
  // Every bundle reads this input type first and stops on it: a bad value measures pure start-up.
  'INPUT_UPLOAD': 'not-a-boolean',
  'INPUT_CACHE': 'not-a-boolean',
  'INPUT_PUSH': 'not-an-enum',
  'INPUT_COMMENT': 'not-an-enum',
  'INPUT_SCOPE': 'not-an-enum',
  'INPUT_FAIL-ON-PUSH-ERROR': 'x',
  // One-line string inputs refuse a line break: this stops the actions without a boolean or enum.
  INPUT_INSTALLABLE: 'x\ny',
  INPUT_IMAGE: 'x\ny',
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function time(args) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    spawnSync(node24, args, { env, stdio: 'ignore' });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}

const floor = time(['-e', '0']);
console.log(`node ${spawnSync(node24, ['--version']).stdout.toString().trim()}, ${runs} runs each, median wall time`);
console.log(`${'bundle'.padEnd(24)} ${'size'.padStart(9)} ${'ms'.padStart(8)} ${'x node -e 0'.padStart(12)}`);
console.log(`${'node -e 0'.padEnd(24)} ${''.padStart(9)} ${floor.toFixed(1).padStart(8)} ${'1.00'.padStart(12)}`);
let worstSize = 0;
for (const action of readdirSync(join(root, 'dist')).sort()) {
  for (const entry of ['index.js', 'post.js']) {
    const file = join(root, 'dist', action, entry);
    if (!existsSync(file)) continue;
    const size = statSync(file).size;
    worstSize = Math.max(worstSize, size);
    const ms = time([file]);
    console.log(
      `${`${action}/${entry}`.padEnd(24)} ${`${(size / 1024).toFixed(0)} KB`.padStart(9)} ${ms.toFixed(1).padStart(8)} ${(ms / floor).toFixed(2).padStart(12)}`,
    );
  }
}
console.log(`largest bundle: ${(worstSize / 1024 / 1024).toFixed(2)} MB (limit 2 MB)`);
process.exit(worstSize < 2 * 1024 * 1024 ? 0 : 1);
