#!/usr/bin/env node
// build and archive speed, against the bare Nix commands they wrap.
//  1. build: the build bundle (Node 24, runner contract) on a fresh image flake, next to a
//     bare `nix build` of a twin flake of the same size (another salt: both build from
//     scratch), per image format; and both again on the already-built installable, where
//     the bundle's extra work (reading the image's layers) is all that is left.
//  2. archive: the archive bundle (scope build / runtime, upload false) next to a bare
//     `nix copy --to file://` of the same paths.
//   node bench/build.mjs [runs] [layers] [MiB]
// The image flakes come from test/helpers/images.ts (writeBigImageFlake), transpiled with
// the project's own `typescript` into a temporary directory. Store paths made here are
// deleted at the end.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const runs = Number(process.argv[2] ?? 3);
const layers = Number(process.argv[3] ?? 20);
const mib = Number(process.argv[4] ?? 32);

const out = mkdtempSync(join(tmpdir(), 'bench-build-'));
writeFileSync(join(out, 'package.json'), '{"type":"module"}');
for (const f of ['test/helpers/images.ts', 'test/helpers/nix.ts', 'test/helpers/tools.ts']) {
  const js = ts.transpileModule(readFileSync(join(root, f), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  mkdirSync(dirname(join(out, f)), { recursive: true });
  writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
}
copyFileSync(join(root, 'test/helpers/mkimage.sh'), join(out, 'test/helpers/mkimage.sh'));
const { writeBigImageFlake } = await import(join(out, 'test/helpers/images.js'));
const { NIX_TEST_CONF } = await import(join(out, 'test/helpers/nix.js'));

// verify rebuilds in a chroot store (always sandboxed): the test derivations need the host tools mapped in
const sandboxPaths = ['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ');
const env = { ...process.env, NIX_CONFIG: `${NIX_TEST_CONF}\nextra-sandbox-paths = ${sandboxPaths}` };
const made = new Set();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (t) => Number(process.hrtime.bigint() - t) / 1e9;

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
function remember(installable) {
  // the output and the content paths, to delete at the end
  const o = JSON.parse(sh('nix', ['build', '--json', '--no-link', installable]))[0].outputs.out;
  made.add(o);
  for (const p of sh('nix-store', ['-q', '--requisites', o]).split('\n').filter(Boolean)) if (/-pkg\d+-1\.0\.\d+$/.test(p)) made.add(p);
  return o;
}

function runner(inputs, cwd) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-runner-'));
  const files = {};
  for (const f of ['output', 'summary', 'env', 'path', 'state']) writeFileSync((files[f] = join(dir, f)), '');
  const e = {
    ...env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STATE: files.state,
    GITHUB_WORKSPACE: cwd ?? dir,
    RUNNER_TEMP: dir,
    GITHUB_RUN_ID: '1',
  };
  for (const [k, v] of Object.entries(inputs)) e[`INPUT_${k.toUpperCase()}`] = v;
  return { env: e, dir };
}
function bundle(action, inputs, cwd) {
  const r = runner(inputs, cwd);
  const t = process.hrtime.bigint();
  const p = spawnSync(node24, [join(root, 'dist', action, 'index.js')], { env: r.env, cwd: cwd ?? r.dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  const s = secs(t);
  if (p.status !== 0) throw new Error(`${action} bundle failed: ${p.stdout.split('\n').filter((l) => l.startsWith('::error')).join(' ')}`);
  return { s, dir: r.dir };
}

const nixVersion = sh('nix', ['--version']).trim();
console.log(`${nixVersion}; images of ${layers} layers, ${mib} MiB of random data; median of ${runs} runs`);

// --- 1. build ---------------------------------------------------------------------
console.log('\nbuild: the bundle vs a bare `nix build` (fresh twin flakes: both build from scratch)');
console.log(`${'format'.padEnd(20)} ${'bare s'.padStart(8)} ${'bundle s'.padStart(9)} ${'ratio'.padStart(6)} | warm: ${'bare s'.padStart(7)} ${'bundle s'.padStart(9)} ${'overhead s'.padStart(11)}`);
for (const attr of ['docker-archive-gz', 'docker-archive-zst', 'stream', 'oci-dir']) {
  const bare = [];
  const act = [];
  const warmBare = [];
  const warmAct = [];
  for (let i = 0; i < runs; i++) {
    const a = writeBigImageFlake({ layers, bytes: mib * 1024 * 1024 });
    const b = writeBigImageFlake({ layers, bytes: mib * 1024 * 1024 });
    let t = process.hrtime.bigint();
    sh('nix', ['build', '--no-link', '-L', a.installable(attr)]);
    bare.push(secs(t));
    act.push(bundle('build', { installable: b.installable(attr) }).s);
    t = process.hrtime.bigint();
    sh('nix', ['build', '--no-link', '-L', a.installable(attr)]);
    warmBare.push(secs(t));
    warmAct.push(bundle('build', { installable: a.installable(attr) }).s);
    remember(a.installable(attr));
    remember(b.installable(attr));
  }
  const [mb, ma, wb, wa] = [median(bare), median(act), median(warmBare), median(warmAct)];
  console.log(
    `${attr.padEnd(20)} ${mb.toFixed(2).padStart(8)} ${ma.toFixed(2).padStart(9)} ${(ma / mb).toFixed(2).padStart(6)} |       ${wb.toFixed(2).padStart(7)} ${wa.toFixed(2).padStart(9)} ${(wa - wb).toFixed(2).padStart(11)}`,
  );
}

// --- 2. archive -------------------------------------------------------------------
console.log('\narchive: the bundle (upload: false) vs a bare `nix copy --to file://` of the same paths');
console.log(`${'scope'.padEnd(10)} ${'paths'.padStart(6)} ${'bare s'.padStart(8)} ${'bundle s'.padStart(9)} ${'ratio'.padStart(6)}`);
for (const scope of ['build', 'runtime']) {
  const bare = [];
  const act = [];
  let count = 0;
  for (let i = 0; i < runs; i++) {
    const f = writeBigImageFlake({ layers, bytes: mib * 1024 * 1024 });
    const inst = f.installable('docker-archive-gz');
    const outPath = remember(inst);
    // bare: the same roots the action copies
    const cache = mkdtempSync(join(tmpdir(), 'bench-copy-'));
    const url = `file://${cache}/cache?compression=zstd`;
    const src = JSON.parse(sh('nix', ['flake', 'archive', '--json', f.ref])).path;
    let t = process.hrtime.bigint();
    if (scope === 'build') {
      const drv = sh('nix', ['path-info', '--derivation', inst]).trim();
      sh('nix', ['copy', '--derivation', '--to', url, drv]);
      sh('nix', ['copy', '--to', url, src]);
    } else {
      sh('nix', ['copy', '--to', url, src, outPath]);
    }
    bare.push(secs(t));
    const r = bundle('archive', { installable: inst, scope, upload: 'false', verify: 'false', path: 'archive' });
    act.push(r.s);
    count = JSON.parse(readFileSync(join(r.dir, 'archive', 'manifest.json'), 'utf8')).paths.length;
    rmSync(cache, { recursive: true, force: true });
    rmSync(r.dir, { recursive: true, force: true });
  }
  const [mb, ma] = [median(bare), median(act)];
  console.log(`${scope.padEnd(10)} ${String(count).padStart(6)} ${mb.toFixed(2).padStart(8)} ${ma.toFixed(2).padStart(9)} ${(ma / mb).toFixed(2).padStart(6)}`);
}

// --- 3. verify ---------------------------------------------------------------------
console.log('\nverify: archive (scope build) with verify: true vs without; the difference is the offline rebuild in an empty store');
{
  const plain = [];
  const verified = [];
  for (let i = 0; i < runs; i++) {
    const f = writeBigImageFlake({ layers, bytes: mib * 1024 * 1024 });
    const inst = f.installable('docker-archive-gz');
    remember(inst);
    const a = bundle('archive', { installable: inst, scope: 'build', upload: 'false', verify: 'false', path: 'archive' });
    plain.push(a.s);
    const b = bundle('archive', { installable: inst, scope: 'build', upload: 'false', verify: 'true', path: 'archive' });
    verified.push(b.s);
    rmSync(a.dir, { recursive: true, force: true });
    rmSync(b.dir, { recursive: true, force: true });
  }
  const [p, v] = [median(plain), median(verified)];
  console.log(`archive ${p.toFixed(2)} s, archive + verify ${v.toFixed(2)} s: verify ${(v - p).toFixed(2)} s`);
}

// --- clean up: only the paths made here ------------------------------------------------
const paths = [...made];
spawnSync('nix-store', ['--delete', ...paths], { env, stdio: 'ignore' });
rmSync(out, { recursive: true, force: true });
console.log(`\ndeleted ${paths.length} store paths made by this benchmark`);
