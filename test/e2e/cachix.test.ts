import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nix, build } from '../../src/nix/index.js';
import { run } from '../../src/process/run.js';
import { runBundle, type BundleRun } from '../helpers/bundle.js';
import { NIX_TEST_CONF, nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { startBinaryCache, type BinaryCacheServer } from '../helpers/binary-cache-server.js';
import { startCachixApi, type CachixApi } from '../helpers/cachix-api.js';

/**
 * The cachix bundle's main and post steps under the runner's contract (Node 24,
 * INPUT_*, GITHUB_* files, state from main to post), against real Nix, a real
 * signed binary cache over loopback HTTP and a recording Cachix API stand-in.
 */

const base = nixEnv();
const s = salt();
const root = mkdtempSync(join(tmpdir(), 'nix-actions-cachix-e2e-'));
const flake = writeFlake(`{
  packages.\${system} = {
    x = mk "cx-e2e-x-${s}" "echo x-${s} > $out";
    y = mk "cx-e2e-y-${s}" "echo y-${s} > $out";
  };
}`);
const onlyOurs = `^(?!.*${s})`; // other engineers' tests add store paths concurrently

let n = 0;
function confEnv(extra: NodeJS.ProcessEnv = {}, conf = ''): NodeJS.ProcessEnv {
  const dir = join(root, `conf-${++n}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'nix.conf'), `${NIX_TEST_CONF}\nbuild-users-group =\n${conf}`);
  return { NIX_CONFIG: '', NIX_CONF_DIR: join(dir, 'etc'), NIX_USER_CONF_FILES: join(dir, 'user.conf'), CACHIX_API_URL: api.url, ...extra };
}

function keypair(name: string) {
  const dir = mkdtempSync(join(root, 'key-'));
  execFileSync('nix-store', ['--generate-binary-cache-key', name, join(dir, 'sk'), join(dir, 'pk')], { env: base });
  return { secret: readFileSync(join(dir, 'sk'), 'utf8'), public: readFileSync(join(dir, 'pk'), 'utf8').trim() };
}

/** Makes sure `attr`'s output is not in the store, so building it after the main step adds it. */
async function absent(attr: string): Promise<void> {
  const nix = await Nix.detect({ env: base });
  const out = (await build(nix, [`path:${flake}#${attr}`]))[0].outputs.out;
  const r = await run('nix-store', ['--delete', out], { env: base });
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Builds `attr` with the step's environment, as a build step between main and post would. */
async function buildStep(env: NodeJS.ProcessEnv, attr: string): Promise<string> {
  const nix = await Nix.detect({ env: { ...base, ...env } });
  return (await build(nix, [`path:${flake}#${attr}`]))[0].outputs.out;
}

const noStack = (r: BundleRun) => expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);

const cacheKey = keypair(`e2e-${s}`);
let cache: BinaryCacheServer;
let api: CachixApi;

beforeAll(async () => {
  cache = await startBinaryCache();
  writeFileSync(join(cache.dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  api = await startCachixApi({ [`e2e-${s}`]: { uri: cache.url, publicSigningKeys: [cacheKey.public], isPublic: true } });
});

afterAll(async () => {
  await cache?.stop();
  await api?.stop();
});


/** The mode and pushed count of the post step's push table in the job summary. */
function pushedInSummary(summary: string): { mode: string; pushed: number } | undefined {
  const lines = summary.split('\n');
  const head = lines.findIndex((l) => /^\| mode \| target \| new paths offered \| filtered out \| pushed \|/.test(l));
  if (head < 0) return undefined;
  const cells = lines[head + 2].split(/(?<!\\)\|/).map((c) => c.trim());
  return { mode: cells[1], pushed: Number(cells[5]) };
}

it('main configures the Cachix cache and post pushes what the job built, signed', async () => {
  const env = confEnv();
  const pushDir = mkdtempSync(join(root, 'push-'));
  const k = keypair(`push-${s}`);
  const inputs = { name: `e2e-${s}`, 'push-to': `file://${pushDir}`, 'signing-key': k.secret, 'push-filter': onlyOurs };
  await absent('x');
  await absent('y');
  const main = await runBundle('cachix', { inputs, env });
  expect(main.code).toBe(0);
  noStack(main);
  expect(main.annotations).toEqual([]);
  expect(main.outputs).toEqual({ pushed: '0', 'push-mode': 'nix-copy' });
  expect(main.stdout).toContain(`::add-mask::${k.secret.split('\n')[0]}`);
  expect(main.stdout.replace(/::add-mask::.*/g, '')).not.toContain(k.secret);
  expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/api/v1/cache/e2e-${s}` });
  expect(readFileSync(env.NIX_USER_CONF_FILES!, 'utf8')).toContain(`extra-substituters = ${cache.url}`);
  expect(main.summary).toContain(`| e2e-${s} | ${cache.url} | \`${cacheKey.public}\` | no | ok |`);
  expect(main.state.snapshot).toMatch(/store-before\.txt$/);

  const out = await buildStep(env, 'x');
  writeFileSync(main.files.output, ''); // what main wrote; the post step must add nothing
  const post = await runBundle('cachix', { entry: 'post', inputs, env, files: main.files });
  expect(post.code).toBe(0);
  noStack(post);
  expect(post.annotations).toEqual([]);
  expect(post.outputs).toEqual({});
  expect(pushedInSummary(post.summary)).toEqual({ mode: 'nix-copy', pushed: 1 });
  const narinfo = readFileSync(join(pushDir, `${out.slice(11, 43)}.narinfo`), 'utf8');
  expect(narinfo).toMatch(new RegExp(`^Sig: push-${s}:`, 'm'));
  expect(post.summary).toContain('### Nix binary cache push');
  expect(post.summary).toContain(out);
});

it('on a fork pull request without secrets: reads, says why in one notice, pushes nothing', async () => {
  const env = confEnv();
  const event = {
    pull_request: { number: 7, head: { repo: { full_name: 'someone/example', fork: true } }, base: { repo: { full_name: 'vig-os/example' } } },
  };
  const inputs = { name: `e2e-${s}`, 'push-filter': onlyOurs };
  await absent('y');
  const main = await runBundle('cachix', { inputs, env, event, eventName: 'pull_request' });
  expect(main.code).toBe(0);
  expect(main.annotations).toEqual([
    {
      level: 'notice',
      props: {},
      message:
        'No auth-token or signing-key is set (someone/example is a pull request from a fork, and GitHub gives forks no secrets), so this job only reads from the cache and pushes nothing',
    },
  ]);
  expect(main.outputs).toEqual({ pushed: '0', 'push-mode': 'none' });
  expect(readFileSync(env.NIX_USER_CONF_FILES!, 'utf8')).toContain(`extra-trusted-public-keys = ${cacheKey.public}`);
  await buildStep(env, 'y');
  writeFileSync(main.files.output, ''); // what main wrote; the post step must add nothing
  const post = await runBundle('cachix', { entry: 'post', inputs, env, files: main.files, event, eventName: 'pull_request' });
  expect(post.code).toBe(0);
  expect(post.annotations).toEqual([]);
  expect(post.outputs).toEqual({});
  expect(cache.requests.filter((r) => r.method === 'PUT')).toEqual([]);
});

it('a failing push is one warning and a green step; with fail-on-push-error it fails the step', async () => {
  const srv = await startBinaryCache();
  writeFileSync(join(srv.dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  srv.failPuts = 503;
  try {
    const env = confEnv({}, 'download-attempts = 1\n');
    const k = keypair(`fail-${s}`);
    const inputs = { 'push-to': srv.url, 'signing-key': k.secret, 'push-filter': onlyOurs };
    await absent('x');
    const main = await runBundle('cachix', { inputs, env });
    expect(main.code).toBe(0);
    await buildStep(env, 'x');
    writeFileSync(main.files.output, ''); // what main wrote; the post step must add nothing
    const post = await runBundle('cachix', { entry: 'post', inputs, env, files: main.files });
    expect(post.code).toBe(0);
    expect(post.annotations.map((a) => a.level)).toEqual(['warning']);
    expect(post.annotations[0].message).toMatch(new RegExp(`^Pushing to ${srv.url} failed: .*503.*set fail-on-push-error: true to fail it\\)$`));
    expect(post.outputs).toEqual({});
    expect(pushedInSummary(post.summary)).toEqual({ mode: 'nix-copy', pushed: 0 });

    const strict = { ...inputs, 'fail-on-push-error': 'true' };
    await absent('x');
    const main2 = await runBundle('cachix', { inputs: strict, env });
    await buildStep(env, 'x');
    writeFileSync(main2.files.output, ''); // what main wrote; the post step must add nothing
    const post2 = await runBundle('cachix', { entry: 'post', inputs: strict, env, files: main2.files });
    expect(post2.code).toBe(1);
    expect(post2.annotations.map((a) => a.level)).toEqual(['error']);
    expect(post2.annotations[0].message).toMatch(new RegExp(`^Pushing to ${srv.url} failed: `));
    noStack(post2);
  } finally {
    await srv.stop();
  }
});

it('pushes to Cachix through the cachix CLI when it is on PATH, secrets by environment only', async () => {
  // The cachix CLI is not packaged for Debian and cannot be installed offline: a
  // stand-in records how it is called (arguments, paths on stdin, which secrets it got).
  const bin = mkdtempSync(join(root, 'bin-'));
  const record = join(bin, 'record');
  writeFileSync(
    join(bin, 'cachix'),
    `#!/bin/sh\n{ echo "args: $*"; echo "token: \${CACHIX_AUTH_TOKEN:+set}"; } > "${record}"\nwhile read -r p; do echo "$p" >> "${record}.paths"; echo "compressing and pushing $p (1 KiB)"; done\n`,
  );
  chmodSync(join(bin, 'cachix'), 0o755);
  const token = `cachix-token-${s}`;
  const env = confEnv({ PATH: `${bin}:${process.env.PATH}` });
  const inputs = { name: `e2e-${s}`, 'auth-token': token, 'push-filter': onlyOurs };
  await absent('x');
  await absent('y');
  const main = await runBundle('cachix', { inputs, env });
  expect(main.code).toBe(0);
  expect(main.outputs).toEqual({ pushed: '0', 'push-mode': 'cachix' });
  expect(api.requests.at(-1)?.authorization).toBe(`Bearer ${token}`);
  const out = await buildStep(env, 'y');
  writeFileSync(main.files.output, ''); // what main wrote; the post step must add nothing
  const post = await runBundle('cachix', { entry: 'post', inputs, env, files: main.files });
  expect(post.code).toBe(0);
  expect(post.annotations).toEqual([]);
  expect(post.outputs).toEqual({});
  expect(pushedInSummary(post.summary)).toEqual({ mode: 'cachix', pushed: 1 });
  expect(readFileSync(record, 'utf8')).toBe(`args: push e2e-${s}\ntoken: set\n`);
  expect(readFileSync(`${record}.paths`, 'utf8')).toBe(`${out}\n`);
  expect((main.stdout + post.stdout).replace(/::add-mask::.*/g, '')).not.toContain(token);
});

it('a bad input is one error line and nothing is written', async () => {
  const env = confEnv();
  const r = await runBundle('cachix', { inputs: { substituter: 'https://x\n::error::pwned', 'public-key': cacheKey.public }, env });
  expect(r.code).toBe(1);
  expect(r.annotations).toHaveLength(1);
  expect(r.annotations[0]).toMatchObject({ level: 'error' });
  expect(r.annotations[0].message).toMatch(/^Input 'substituter': /);
  expect(existsSync(env.NIX_USER_CONF_FILES!)).toBe(false);
  noStack(r);
});
