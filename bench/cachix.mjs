#!/usr/bin/env node
// What did this job add to the store? The cachix action answers with a listing of the
// store directory at the main step, diffed at the post step (src/cache/snapshot.ts,
// compiled here with ncc). The peer is the obvious alternative: `nix path-info --all`
// at both ends. Both sides run on this machine's real store, with N fresh paths built
// in between; both must find the same new paths.
//   node bench/cachix.mjs [runs] [new-paths]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const root = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 5);
const count = Number(process.argv[3] ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'bench-cachix-'));
const env = {
  ...process.env,
  NIX_CONFIG: 'experimental-features = nix-command flakes\nsandbox = false\nsubstituters =\nbuild-users-group =',
};

execFileSync(join(root, 'node_modules', '.bin', 'ncc'), ['build', join(root, 'src/cache/snapshot.ts'), '-o', join(dir, 'snap'), '-q'], { cwd: root });
const { saveSnapshot, newSince, validOnly } = await import(join(dir, 'snap', 'index.js'));

function buildPaths(tag) {
  const drvs = Array.from({ length: count }, (_, i) =>
    `(derivation { name = "bench-cachix-${tag}-${i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${tag}-${i} > $out" ]; })`,
  );
  const out = execFileSync('nix', ['build', '--impure', '--no-link', '--json', '--expr', `[ ${drvs.join(' ')} ]`], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out).map((b) => b.outputs.out).sort();
}

function allValid() {
  const out = execFileSync('nix', ['path-info', '--all'], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return new Set(out.split('\n').filter(Boolean));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const ours = { main: [], post: [] };
const peer = { main: [], post: [] };
const cleanup = [];

for (let r = 0; r < runs; r++) {
  const tag = randomBytes(4).toString('hex');
  const snap = join(dir, `snap-${r}.txt`);
  let t = process.hrtime.bigint();
  saveSnapshot(snap);
  ours.main.push(ms(t));
  t = process.hrtime.bigint();
  const before = allValid();
  peer.main.push(ms(t));

  const built = buildPaths(tag);
  cleanup.push(...built);

  t = process.hrtime.bigint();
  const found = (await validOnly(newSince(snap), env)).filter((p) => p.includes(`bench-cachix-${tag}-`)).sort();
  ours.post.push(ms(t));
  t = process.hrtime.bigint();
  const after = allValid();
  const peerFound = [...after].filter((p) => !before.has(p) && !p.endsWith('.drv') && p.includes(`bench-cachix-${tag}-`)).sort();
  peer.post.push(ms(t));
  if (JSON.stringify(found) !== JSON.stringify(built) || JSON.stringify(peerFound) !== JSON.stringify(built)) {
    console.error(`run ${r}: the two methods disagree with what was built`);
    process.exit(1);
  }
}
spawnSync('nix-store', ['--delete', ...cleanup], { env, stdio: 'ignore' });

const storeSize = allValid().size;
console.log(`store: ${storeSize} valid paths; ${count} new paths per run; ${runs} runs; median ms`);
console.log(`${'step'.padEnd(10)} ${'snapshot (ours)'.padStart(16)} ${'path-info --all'.padStart(16)} ${'ratio'.padStart(8)}`);
for (const step of ['main', 'post']) {
  const a = median(ours[step]);
  const b = median(peer[step]);
  console.log(`${step.padEnd(10)} ${a.toFixed(1).padStart(16)} ${b.toFixed(1).padStart(16)} ${(b / a).toFixed(1).padStart(7)}x`);
}
writeFileSync(join(dir, 'done'), '');
