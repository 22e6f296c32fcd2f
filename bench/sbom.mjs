#!/usr/bin/env node
// sbom speed on a big closure, against the bare Nix queries it needs.
//  1. Generates a flake of N tiny derivations (default 5000) forming a binary tree:
//     pkg<i> references pkg<2i+1> and pkg<2i+2>, so the runtime closure of pkg0 is all
//     N paths (and the build graph N derivations). Built once; a fixed salt makes a
//     second run of the bench reuse the store paths (--fresh for a new salt).
//  2. Times the bare Nix commands the sbom action runs (nix build of the built
//     installable, path-info --recursive, show-derivation of every deriver in chunks
//     of 500, eval of meta, flake metadata), then the sbom bundle itself (Node 24,
//     runner contract, upload false, both formats), runtime and buildtime scope.
//  3. Prints both, the ratio (our overhead) and the bundle's peak memory (max RSS).
//   node bench/sbom.mjs [derivations] [runs] [--fresh] [--delete]
// --delete removes the generated store paths at the end (only ours).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [n = 5000, runs = 3] = args.filter((a) => !a.startsWith('--')).map(Number);
const bundle = join(root, 'dist', 'sbom', 'index.js');
if (!existsSync(bundle)) throw new Error('dist/sbom/index.js is missing: node scripts/build.mjs sbom');

// The project's test flake helpers, transpiled with its own typescript (no second copy).
const helpers = mkdtempSync(join(tmpdir(), 'bench-sbom-helpers-'));
writeFileSync(join(helpers, 'package.json'), '{"type":"module"}');
for (const f of ['test/helpers/nix.ts', 'test/helpers/tools.ts']) {
  const js = ts.transpileModule(readFileSync(join(root, f), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  mkdirSync(dirname(join(helpers, f)), { recursive: true });
  writeFileSync(join(helpers, f.replace(/\.ts$/, '.js')), js);
}
const { NIX_TEST_CONF, writeFlake, salt } = await import(join(helpers, 'test/helpers/nix.js'));
const env = { ...process.env, NIX_CONFIG: NIX_TEST_CONF, SOURCE_DATE_EPOCH: '1700000000' };

function sh(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.slice(0, 6).join(' ')} failed: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}
const secs = (t) => Number(process.hrtime.bigint() - t) / 1e9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. the flake
const s = flags.has('--fresh') ? salt() : `bench-sbom-v1-${n}`;
const defs = [];
for (let i = 0; i < n; i++) {
  const kids = [2 * i + 1, 2 * i + 2].filter((k) => k < n).map((k) => `\${p${k}}`).join(' ');
  defs.push(`p${i} = mkWith { name = "pkg${i}-1.0.${i}"; pname = "pkg${i}"; version = "1.0.${i}"; args = [ "-c" "mkdir $out; echo ${s} ${kids} > $out/refs" ]; };`);
}
const dir = join(tmpdir(), `nix-actions-bench-sbom-${s}`);
writeFlake(`let\n    ${defs.join('\n    ')}\n  in { packages.\${system}.default = p0 // { meta = { description = "bench root"; license = { spdxId = "MIT"; }; }; }; }`, { dir });
const installable = `path:${dir}#default`;
let t = process.hrtime.bigint();
const built = JSON.parse(sh('nix', ['build', '--json', '--no-link', '--max-jobs', '2', installable]))[0];
console.log(`flake of ${n} derivations built (or reused) in ${secs(t).toFixed(1)} s: ${built.outputs.out}`);

// 2a. bare Nix: the same queries the action makes, with nothing around them
function bare(scope) {
  const t0 = process.hrtime.bigint();
  sh('nix', ['build', '--json', '--no-link', installable]);
  const infos = JSON.parse(sh('nix', ['path-info', '--json', '--recursive', built.outputs.out]));
  const derivers = [...new Set(infos.map((i) => i.deriver).filter(Boolean))].sort();
  for (let i = 0; i < derivers.length; i += 500) sh('nix', ['show-derivation', ...derivers.slice(i, i + 500)]);
  if (scope === 'buildtime') sh('nix', ['show-derivation', '--recursive', built.drvPath]);
  sh('nix', ['eval', '--json', `${installable}.meta`]);
  sh('nix', ['flake', 'metadata', '--json', '--no-write-lock-file', `path:${dir}`]);
  return { secs: secs(t0), paths: infos.length };
}

const hasTime = existsSync('/usr/bin/time');
// 2b. the bundle, as the runner runs it; max RSS from GNU time
function action(scope) {
  const ws = mkdtempSync(join(tmpdir(), 'bench-sbom-ws-'));
  const files = {};
  for (const f of ['output', 'summary', 'env', 'path', 'state']) writeFileSync((files[f] = join(ws, `.${f}`)), '');
  const e = {
    ...env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STATE: files.state,
    GITHUB_REPOSITORY: 'vig-os/bench',
    GITHUB_WORKSPACE: ws,
    RUNNER_TEMP: ws,
    INPUT_INSTALLABLE: installable,
    INPUT_UPLOAD: 'false',
    INPUT_SCOPE: scope,
  };
  const t0 = process.hrtime.bigint();
  // GNU time (Debian package `time`) reports the bundle's max RSS; without it, RSS is n/a.
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', node24, bundle], { env: e, cwd: ws, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(node24, [bundle], { env: e, cwd: ws, encoding: 'utf8', maxBuffer: 1 << 28 });
  const took = secs(t0);
  if (r.status !== 0) throw new Error(`sbom bundle failed: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  const rss = Number(/MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  const out = Object.fromEntries(readFileSync(files.output, 'utf8').split('\n').filter((l) => l.includes('=') && !l.includes('<<')).map((l) => l.split('=')));
  // heredoc outputs (the runner's delimiter form)
  const text = readFileSync(files.output, 'utf8');
  for (const m of text.matchAll(/^(\w+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  const sizes = ['cyclonedx', 'spdx'].map((k) => statSync(out[k]).size);
  return { secs: took, rssMiB: rss, components: Number(out.components), sizes };
}

console.log(`\n${runs} runs each, median wall time; node ${sh(node24, ['--version']).trim()}, ${sh('nix', ['--version']).trim()}`);
console.log(`${'scope'.padEnd(10)} ${'paths'.padStart(6)} ${'bare nix s'.padStart(11)} ${'sbom s'.padStart(8)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(9)} ${'cdx MiB'.padStart(8)} ${'spdx MiB'.padStart(9)}`);
for (const scope of ['runtime', 'buildtime']) {
  const b = [];
  const a = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const x = bare(scope);
    b.push(x.secs);
    last = action(scope);
    a.push(last);
    if (i === 0) last.paths = x.paths;
  }
  const bs = median(b);
  const as = median(a.map((x) => x.secs));
  const rss = Math.max(...a.map((x) => x.rssMiB));
  console.log(
    `${scope.padEnd(10)} ${String(a[0].components).padStart(6)} ${bs.toFixed(2).padStart(11)} ${as.toFixed(2).padStart(8)} ${(as / bs).toFixed(2).padStart(6)} ${(hasTime ? `${rss.toFixed(0)} MiB` : 'n/a').padStart(9)} ${(last.sizes[0] / 2 ** 20).toFixed(2).padStart(8)} ${(last.sizes[1] / 2 ** 20).toFixed(2).padStart(9)}`,
  );
}
console.log('ratio = sbom bundle wall time / bare Nix queries (the bundle includes Node start-up, validation and writing).');

if (flags.has('--delete')) {
  const paths = sh('nix-store', ['-qR', built.outputs.out]).split('\n').filter(Boolean);
  spawnSync('nix-store', ['--delete', ...paths], { env, stdio: 'ignore' });
  console.log(`deleted ${paths.length} store paths made by this bench`);
}
