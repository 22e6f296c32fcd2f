#!/usr/bin/env node
// flake-diff speed.
//  1. The diff itself: parse + flatten + diff two generated 300-input flake.lock files
//     (with follows), per diff, next to the floor of merely JSON.parse-ing both files.
//  2. The bundle's whole process on a typical pull request (Node 24, a fresh shallow
//     clone per run, the base commit fetched by the action, locks written by real Nix),
//     next to `node -e 0`.
//   node bench/flake-diff.mjs [runs]
// The TypeScript sources are transpiled with the project's own `typescript` into a
// temporary directory and imported from there (no extra tools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const runs = Number(process.argv[2] ?? 7);

const out = mkdtempSync(join(tmpdir(), 'bench-flake-diff-'));
writeFileSync(join(out, 'package.json'), '{"type":"module"}');
for (const f of ['src/errors.ts', 'src/flake/lock.ts', 'src/flake/diff.ts', 'src/flake/ref.ts', 'test/helpers/flake-repo.ts', 'test/helpers/git.ts', 'test/helpers/nix.ts', 'test/helpers/tools.ts']) {
  const js = ts.transpileModule(readFileSync(join(root, f), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  mkdirSync(dirname(join(out, f)), { recursive: true });
  writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
}
const { parseLock } = await import(join(out, 'src/flake/lock.js'));
const { diffLocks } = await import(join(out, 'src/flake/diff.js'));
const { makeFlakePr, shallowClone } = await import(join(out, 'test/helpers/flake-repo.js'));
const { NIX_TEST_CONF } = await import(join(out, 'test/helpers/nix.js'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// --- 1. two generated 300-input locks -------------------------------------------------
function genLock(n, generation) {
  const nodes = { root: { inputs: {} } };
  const hex = (i, g) => (i.toString(16).padStart(8, '0') + g.toString(16).padStart(8, '0')).repeat(3).slice(0, 40);
  for (let i = 0; i < n; i++) {
    const name = `input${i}`;
    // every third input moves to a new revision in the second generation
    const g = i % 3 === 0 ? generation : 0;
    const node = {
      locked: { lastModified: 1700000000 + i + g * 1000, narHash: `sha256-${String(i).padStart(43, 'A')}=`, owner: `owner${i % 17}`, repo: name, rev: hex(i, g), type: 'github' },
      original: { owner: `owner${i % 17}`, ref: 'main', repo: name, type: 'github' },
    };
    // every fifth input has its own nixpkgs that follows the root's first input
    if (i % 5 === 1) node.inputs = { nixpkgs: ['input0'], systems: `input${(i + 1) % n}` };
    nodes[name] = node;
    nodes.root.inputs[name] = name;
  }
  return JSON.stringify({ nodes, root: 'root', version: 7 }, null, 2);
}
const a = genLock(300, 0);
const b = genLock(300, 1);
const diffOnce = () => diffLocks(parseLock(a, 'a.lock'), parseLock(b, 'b.lock'));
const changes = diffOnce();
const timeLoop = (fn, iters) => {
  for (let i = 0; i < 20; i++) fn(); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1e6 / iters;
};
const iters = 200;
const diffMs = timeLoop(diffOnce, iters);
const parseMs = timeLoop(() => (JSON.parse(a), JSON.parse(b)), iters);
console.log(`1. diff of two 300-input flake.lock files (${(a.length / 1024).toFixed(0)} KB each, ${changes.length} changed paths), mean of ${iters}, Node ${process.version}`);
console.log(`   ${'parse + flatten + diff'.padEnd(28)} ${diffMs.toFixed(3).padStart(8)} ms`);
console.log(`   ${'JSON.parse of both (floor)'.padEnd(28)} ${parseMs.toFixed(3).padStart(8)} ms`);
console.log(`   ratio ${(diffMs / parseMs).toFixed(1)}x the floor`);

// --- 2. the bundle on a typical pull request ------------------------------------------
const pr = makeFlakePr();
const event = { pull_request: { number: 1, base: { sha: pr.baseSha, ref: 'main', repo: { full_name: 'o/r' } }, head: { sha: pr.headSha, repo: { full_name: 'o/r' } } } };
function runOnce() {
  const clone = shallowClone(pr);
  const dir = mkdtempSync(join(tmpdir(), 'bench-flake-diff-runner-'));
  for (const f of ['output', 'state', 'summary', 'env', 'path']) writeFileSync(join(dir, f), '');
  writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NIX_CONFIG: NIX_TEST_CONF,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_WORKSPACE: clone,
    RUNNER_TEMP: dir,
    INPUT_COMMENT: 'never',
    'INPUT_FAIL-ON': 'never',
  };
  const t = process.hrtime.bigint();
  const r = spawnSync(node24, [join(root, 'dist', 'flake-diff', 'index.js')], { cwd: clone, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 || !readFileSync(join(dir, 'output'), 'utf8').includes('changed')) {
    throw new Error(`the bundle failed: ${r.stdout}${r.stderr}`);
  }
  return ms;
}
const bundle = [];
for (let i = 0; i < runs; i++) bundle.push(runOnce());
const floor = [];
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  spawnSync(node24, ['-e', '0']);
  floor.push(Number(process.hrtime.bigint() - t) / 1e6);
}
const bm = median(bundle);
const fm = median(floor);
console.log(`2. whole process on a typical pull request (shallow clone, base fetched, 4 input changes, policy), median of ${runs}, Node 24`);
console.log(`   ${'flake-diff bundle'.padEnd(28)} ${bm.toFixed(1).padStart(8)} ms`);
console.log(`   ${'node -e 0'.padEnd(28)} ${fm.toFixed(1).padStart(8)} ms`);
console.log(`   ratio ${(bm / fm).toFixed(2)}x node -e 0`);
