#!/usr/bin/env node
// install-nix: time to install from a local tarball (served on loopback, as a mirror
// would serve it) against plain `tar -x` of the same tarball, which is the floor: the
// installer must at least unpack it. The tarball is in the official layout and made
// here from real store paths (a wrapper `nix` over the host's Nix 2.8 plus a payload
// of many files, sized like an official tarball's store: see --files/--kib).
// Also times a rerun on the installed root (the idempotent path).
//   node bench/install-nix.mjs [--runs 5] [--files 1000] [--kib 24]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const bundle = join(root, 'dist', 'install-nix', 'index.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('runs', 5);
const files = arg('files', 1000);
const kib = arg('kib', 24);
const system = process.arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux';
const nixConf = 'experimental-features = nix-command flakes\nsandbox = false\nsubstituters =';
const nixEnv = { ...process.env, NIX_CONFIG: nixConf };
const version = /(\d+\.\d+(?:\.\d+)?)/.exec(execFileSync('nix', ['--version'], { encoding: 'utf8' }))[1];
const salt = randomBytes(6).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'bench-install-nix-'));

// 1. A release in the official layout from real store paths.
writeFileSync(
  join(work, 'release.nix'),
  `let
  sh = name: script: attrs: derivation ({ inherit name; system = "${system}"; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; salt = "${salt}"; } // attrs);
  payload = sh "nix-payload-${salt}" ''
    mkdir -p $out/share
    i=0; while [ $i -lt ${files} ]; do head -c ${kib * 768} /dev/urandom | base64 > $out/share/f$i; i=$((i+1)); done
  '' {};
  cacert = sh "nss-cacert-3.0" "mkdir -p $out/etc/ssl/certs; echo ca > $out/etc/ssl/certs/ca-bundle.crt" {};
  nix = sh "nix-${version}" ''
    mkdir -p $out/bin
    for t in nix nix-store nix-env; do printf '#!/bin/sh\\n# %s\\nexec /usr/bin/%s "$@"\\n' $payload $t > $out/bin/$t; chmod +x $out/bin/$t; done
  '' { inherit payload; };
in { inherit nix cacert; }
`,
);
const build = (a) => execFileSync('nix-build', [join(work, 'release.nix'), '-A', a, '--no-out-link'], { env: nixEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
console.error('building the test release...');
const nixPath = build('nix');
const cacertPath = build('cacert');
const closure = execFileSync('nix-store', ['-qR', nixPath, cacertPath], { encoding: 'utf8' }).trim().split('\n');
const top = `nix-${version}-${system}`;
mkdirSync(join(work, 'tree', top, 'store'), { recursive: true });
for (const p of closure) execFileSync('cp', ['-a', p, join(work, 'tree', top, 'store') + '/']);
writeFileSync(join(work, 'tree', top, '.reginfo'), execFileSync('nix-store', ['--dump-db', ...closure]));
writeFileSync(join(work, 'tree', top, 'install'), `#!/bin/sh\nnix="${nixPath}"\ncacert="${cacertPath}"\n`, { mode: 0o755 });
const tarball = join(work, `${top}.tar.xz`);
execFileSync('tar', ['-cJf', tarball, '-C', join(work, 'tree'), top], { env: { ...process.env, XZ_OPT: '-T0' } });
execFileSync('chmod', ['-R', 'u+w', join(work, 'tree')]);
rmSync(join(work, 'tree'), { recursive: true });
const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
const unpackedBytes = Number(execFileSync('du', ['-sb', ...closure], { encoding: 'utf8' }).trim().split('\n').reduce((a, l) => a + Number(l.split('\t')[0]), 0));

// 2. Serve it on loopback, as a mirror.
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-length': statSync(tarball).size });
  createReadStream(tarball).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/${top}.tar.xz`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = async (f) => {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const clean = (dir) => {
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
};

async function step(installRoot) {
  const rt = mkdtempSync(join(tmpdir(), 'bench-install-rt-'));
  for (const f of ['output', 'state', 'summary', 'env', 'path']) writeFileSync(join(rt, f), '');
  // Asynchronous: the loopback server lives in this process and must keep serving.
  const child = spawn(node24, [bundle], {
    env: {
      PATH: process.env.PATH,
      HOME: join(installRoot, 'home'),
      NIX_CONFIG: nixConf,
      NIX_ACTIONS_INSTALL_ROOT: installRoot,
      RUNNER_TEMP: rt,
      GITHUB_WORKSPACE: rt,
      GITHUB_OUTPUT: join(rt, 'output'),
      GITHUB_STATE: join(rt, 'state'),
      GITHUB_STEP_SUMMARY: join(rt, 'summary'),
      GITHUB_ENV: join(rt, 'env'),
      GITHUB_PATH: join(rt, 'path'),
      'INPUT_INSTALLER-URL': url,
      'INPUT_INSTALLER-SHA256': sha256,
      'INPUT_CACHE-MAX-SIZE': '4G',
      'INPUT_CACHE-SAVE': 'post',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (c) => (text += c));
  child.stderr.on('data', (c) => (text += c));
  const status = await new Promise((r) => child.on('close', r));
  const out = readFileSync(join(rt, 'output'), 'utf8');
  clean(rt);
  if (status !== 0 || !out.includes('nix-version')) throw new Error(`install-nix failed (${status}): ${text}`);
}

const floor = [];
const install = [];
const rerun = [];
for (let i = 0; i < runs; i++) {
  const d = mkdtempSync(join(tmpdir(), 'bench-tar-'));
  floor.push(await ms(() => execFileSync('tar', ['-xf', tarball, '-C', d])));
  clean(d);
  const r = mkdtempSync(join(tmpdir(), 'bench-install-root-'));
  install.push(await ms(() => step(r)));
  rerun.push(await ms(() => step(r)));
  clean(r);
}
server.close();

const f = median(floor);
const row = (name, t) => console.log(`${name.padEnd(44)} ${t.toFixed(0).padStart(8)} ${(t / f).toFixed(2).padStart(8)}`);
console.log(
  `tarball ${(statSync(tarball).size / 1048576).toFixed(1)} MiB xz, ${closure.length} store paths, ${files + 4} files, ${(unpackedBytes / 1048576).toFixed(1)} MiB unpacked; ${runs} runs, median wall time`,
);
console.log(`${''.padEnd(44)} ${'ms'.padStart(8)} ${'x tar -x'.padStart(8)}`);
row('tar -xf (the floor)', f);
row('install-nix step (download, verify, install)', median(install));
row('install-nix rerun on the installed root', median(rerun));

clean(work);
// Only this run's paths (salted), with the derivations that built them.
const derivers = closure.map((p) => execFileSync('nix-store', ['--query', '--deriver', p], { encoding: 'utf8' }).trim()).filter((d) => d.startsWith('/nix/store/'));
spawnSync('nix-store', ['--delete', ...closure, ...derivers], { stdio: 'ignore' });
