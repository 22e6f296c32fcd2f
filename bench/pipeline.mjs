#!/usr/bin/env node
// The one-step pipeline (root action) and the same job as separate steps, against
// the bare tools doing the least that job needs, on the example flake:
//
//   one-step   dist/pipeline: build + SBOM (CycloneDX and SPDX) + publish, one process
//   steps      dist/build, dist/sbom, dist/publish: three processes, env passed on
//   bare       nix build + gzip -dc + skopeo copy to the registry (no SBOM, no checks)
//
// Each run pushes to a new repository of a throwaway loopback docker-registry (a cold
// push); the Nix build itself is cached after the warm-up, so the figures are what
// the actions add around Nix. Prints medians and ratios.
//
//   node bench/pipeline.mjs [runs]      (default 5; needs nix, docker-registry, skopeo, dist/)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, newJob, nixConfig, runStep, startLocalRegistry } from '../scripts/demo.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'nix-actions-bench-pipeline-'));
const { repo, head } = makeRepo(join(ROOT, 'examples', 'devcontainer'), work);
const registry = await startLocalRegistry(work);
if (!registry.host) {
  console.error(`bench: ${registry.why}`);
  process.exit(2);
}
const env = { ...process.env, NIX_CONFIG: nixConfig() };
let n = 0;

async function oneStep() {
  const job = newJob({ workspace: repo, sha: head, temp: join(work, `r${++n}`) });
  const r = await runStep(job, 'pipeline', { registry: registry.host, repository: `bench/one-${n}`, tags: 'latest', 'plain-http': 'true', 'sbom-dir': `sbom-${n}` });
  if (r.code !== 0) throw new Error(`pipeline failed: ${r.annotations.map((a) => a.message).join('; ')}`);
}

async function steps() {
  const job = newJob({ workspace: repo, sha: head, temp: join(work, `r${++n}`) });
  for (const [action, inputs] of [
    ['build', { installable: '.#devcontainer' }],
    ['sbom', { 'output-dir': `sbom-${n}`, upload: 'false' }],
    ['publish', { registry: registry.host, repository: `bench/steps-${n}`, tags: 'latest', 'plain-http': 'true' }],
  ]) {
    const r = await runStep(job, action, inputs);
    if (r.code !== 0) throw new Error(`${action} failed: ${r.annotations.map((a) => a.message).join('; ')}`);
  }
}

async function bare() {
  n++;
  const out = JSON.parse(execFileSync('nix', ['build', '--json', '--no-link', '.#devcontainer'], { cwd: repo, env, encoding: 'utf8' }))[0].outputs.out;
  const tar = join(work, `bare-${n}.tar`);
  execFileSync('sh', ['-c', 'gzip -dc "$1" > "$2"', 'sh', out, tar]);
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${tar}`, `docker://${registry.host}/bench/bare-${n}:latest`]);
  rmSync(tar);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

try {
  // Warm-up: builds the example once and loads every bundle from disk once.
  await oneStep();
  await steps();
  await bare();
  const t = { 'one-step': [], steps: [], bare: [] };
  for (let i = 0; i < runs; i++) {
    t['one-step'].push(await time(oneStep));
    t.steps.push(await time(steps));
    t.bare.push(await time(bare));
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  console.log(`pipeline on examples/devcontainer, ${runs} runs each, median wall time (cold push to a loopback registry, cached build)`);
  for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(9)} ${v.toFixed(0).padStart(6)} ms   (runs: ${t[k].map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  one-step / bare  ${(m['one-step'] / m.bare).toFixed(2)}x   (bare writes no SBOM and checks nothing)`);
  console.log(`  steps / bare     ${(m.steps / m.bare).toFixed(2)}x`);
  console.log(`  one-step / steps ${(m['one-step'] / m.steps).toFixed(2)}x`);
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
