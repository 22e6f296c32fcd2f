import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nix, build } from '../../src/nix/index.js';
import { run } from '../../src/process/run.js';
import { recordingLog } from '../../src/log.js';
import { UserError } from '../../src/errors.js';
import { cacheMain, cachePost, type CacheInputs, type StepEnv } from '../../src/cache/steps.js';
import { configureRead } from '../../src/cache/read.js';
import { NIX_TEST_CONF, nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { startBinaryCache, type BinaryCacheServer } from '../helpers/binary-cache-server.js';
import { startCachixApi, type CachixApi } from '../helpers/cachix-api.js';
import { freePort } from '../helpers/registry.js';

/**
 * The cachix action's core against real Nix, a real signed binary cache (file://
 * and the same directory over loopback HTTP) and a recording stand-in for the
 * Cachix API. Each test gets its own nix.conf dir (NIX_CONF_DIR, NIX_USER_CONF_FILES),
 * so the machine's /etc/nix/nix.conf is never touched.
 */

const base = nixEnv();
const s = salt();
const root = mkdtempSync(join(tmpdir(), 'nix-actions-cachix-it-'));
const marker = join(root, 'built-once');
// Builds once; after `marker` exists the builder fails, so a later success proves substitution.
const flake = writeFlake(`{
  packages.\${system} = {
    a = mk "cx-a-${s}" "if [ -e ${marker} ]; then echo built-again >&2; exit 1; fi; echo a-${s} > $out";
    b = mk "cx-b-${s}" "echo b-${s} > $out";
    c = mk "cx-c-${s}" "echo c-${s} > $out";
  };
}`);

let n = 0;
/** A private Nix configuration for one test: system conf = the offline test conf, empty user conf. */
function confEnv(extra: NodeJS.ProcessEnv = {}, conf = ''): { env: NodeJS.ProcessEnv; sysDir: string; userFile: string; temp: string } {
  const dir = join(root, `conf-${++n}`);
  const sysDir = join(dir, 'etc');
  mkdirSync(sysDir, { recursive: true });
  writeFileSync(join(sysDir, 'nix.conf'), `${NIX_TEST_CONF}\nbuild-users-group =\n${conf}`);
  const userFile = join(dir, 'user', 'nix.conf');
  const temp = join(dir, 'runner-temp');
  mkdirSync(temp);
  const env: NodeJS.ProcessEnv = { ...base, NIX_CONF_DIR: sysDir, NIX_USER_CONF_FILES: userFile, ...extra };
  delete env.NIX_CONFIG; // would override substituters after our file
  return { env, sysDir, userFile, temp };
}

function keypair(name: string): { secretFile: string; secret: string; public: string } {
  const dir = mkdtempSync(join(root, 'key-'));
  execFileSync('nix-store', ['--generate-binary-cache-key', name, join(dir, 'sk'), join(dir, 'pk')], { env: base });
  return { secretFile: join(dir, 'sk'), secret: readFileSync(join(dir, 'sk'), 'utf8'), public: readFileSync(join(dir, 'pk'), 'utf8').trim() };
}

const inputs = (over: Partial<CacheInputs>): CacheInputs => ({
  push: 'auto',
  extraPullNames: [],
  failOnPushError: false,
  pushTimeout: 120,
  paths: [],
  // Other engineers' tests add store paths concurrently: push only ours.
  pushFilter: `^(?!.*${s})`,
  ...over,
});

const stepEnv = (env: NodeJS.ProcessEnv, temp: string, log = recordingLog()): StepEnv & { log: ReturnType<typeof recordingLog> } => ({
  env,
  log,
  runnerTemp: temp,
  eventName: 'push',
  event: {},
});

const key = keypair(`cx-${s}-1`);
const cacheDir = join(root, 'cache');
let outA: string;
let nix: Nix;
let http: BinaryCacheServer;
let api: CachixApi;

/** Nix as the action runs it: reading the test's own configuration. */
const nixFor = (env: NodeJS.ProcessEnv) => Nix.detect({ env });

async function realise(env: NodeJS.ProcessEnv, attr: string): Promise<string> {
  const n2 = await Nix.detect({ env });
  const [b] = await build(n2, [`path:${flake}#${attr}`]);
  return b.outputs.out;
}

async function deleteLocal(path: string): Promise<void> {
  const r = await run('nix-store', ['--delete', path], { env: base });
  if (r.code !== 0) throw new Error(r.stderr);
}

beforeAll(async () => {
  nix = await Nix.detect({ env: base });
  // Build a, put it in a signed file:// cache, delete it locally, and forbid building it again.
  outA = await realise(base, 'a');
  await nix.run(['copy', '--to', `file://${cacheDir}?secret-key=${key.secretFile}`, outA]);
  await deleteLocal(outA);
  writeFileSync(marker, '');
  http = await startBinaryCache({ dir: cacheDir });
  api = await startCachixApi({
    [`pub-${s}`]: { uri: http.url, publicSigningKeys: [key.public], isPublic: true },
  });
});

afterAll(async () => {
  await http?.stop();
  await api?.stop();
});

afterEach(async () => {
  // Whatever a test substituted must be gone for the next one to prove anything.
  if (outA && existsSync(outA)) await deleteLocal(outA);
});

describe('read side', () => {
  it('configures a signed file:// cache so real Nix substitutes instead of building', async () => {
    const c = confEnv();
    await expect(realise(c.env, 'a')).rejects.toThrow(/built-again|failed/); // no cache yet: it would build, and that fails
    const log = recordingLog();
    const read = await configureRead(await nixFor(c.env), { extraPullNames: [], substituter: `file://${cacheDir}`, publicKey: key.public }, c.env, log);
    expect(read.written?.target.file).toBe(c.userFile);
    const conf = readFileSync(c.userFile, 'utf8');
    expect(conf).toContain(`extra-substituters = file://${cacheDir}`);
    expect(conf).toContain(`extra-trusted-public-keys = ${key.public}`);
    expect(await realise(c.env, 'a')).toBe(outA);
    expect(readFileSync(outA, 'utf8').trim()).toBe(`a-${s}`);
    expect(readFileSync(join(c.sysDir, 'nix.conf'), 'utf8')).not.toContain('cachix'); // system conf untouched
  });

  it('looks a Cachix cache up through the API and substitutes from it over HTTP', async () => {
    const c = confEnv();
    const before = http.requests.length;
    const log = recordingLog();
    const read = await configureRead(await nixFor(c.env), { name: `pub-${s}`, extraPullNames: [], cachixApiUrl: api.url }, c.env, log);
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/api/v1/cache/pub-${s}`, authorization: undefined });
    expect(read.caches).toEqual([{ label: `pub-${s}`, url: http.url, keys: [key.public], private: false, reachable: 'ok' }]);
    expect(await realise(c.env, 'a')).toBe(outA);
    const hash = outA.slice('/nix/store/'.length, '/nix/store/'.length + 32);
    const got = http.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(got).toContain(`GET /${hash}.narinfo`);
    expect(got.some((g) => /^GET \/nar\/.+\.nar/.test(g))).toBe(true);
  });

  it('reads a private cache through a 0600 netrc entry made from auth-token', async () => {
    const token = `tok-${s}-secret`;
    const priv = await startBinaryCache({ dir: cacheDir, token });
    api.caches[`priv-${s}`] = { uri: priv.url, publicSigningKeys: [key.public], isPublic: false, token };
    try {
      const c = confEnv();
      // Without the token the API does not reveal the cache, and the action says what to do.
      await expect(configureRead(await nixFor(c.env), { name: `priv-${s}`, extraPullNames: [], cachixApiUrl: api.url }, c.env, recordingLog())).rejects.toThrow(
        /was not found, or is private and no auth-token was given \(HTTP 404\)/,
      );
      const read = await configureRead(await nixFor(c.env), { name: `priv-${s}`, extraPullNames: [], authToken: token, cachixApiUrl: api.url }, c.env, recordingLog());
      expect(api.requests.at(-1)?.authorization).toBe(`Bearer ${token}`);
      const netrc = read.written!.netrcFile!;
      expect(statSync(netrc).mode & 0o777).toBe(0o600);
      expect(readFileSync(netrc, 'utf8')).toBe(`machine 127.0.0.1 password ${token}\n`);
      expect(readFileSync(c.userFile, 'utf8')).not.toContain(token); // the token lives in the netrc only
      expect(await realise(c.env, 'a')).toBe(outA);
      expect(priv.requests.filter((r) => r.path.endsWith('.narinfo')).every((r) => r.authorized)).toBe(true);
      expect(priv.requests.some((r) => r.path.endsWith('.narinfo'))).toBe(true);
    } finally {
      await priv.stop();
    }
  });

  it('keeps existing netrc credentials when it adds its own', async () => {
    const c = confEnv();
    writeFileSync(join(c.sysDir, 'netrc'), 'machine other.example.org\nlogin me\npassword keepme\n', { mode: 0o600 });
    const token = `tok2-${s}`;
    const priv = await startBinaryCache({ dir: cacheDir, token });
    api.caches[`priv2-${s}`] = { uri: priv.url, publicSigningKeys: [key.public], isPublic: false, token };
    try {
      const read = await configureRead(await nixFor(c.env), { name: `priv2-${s}`, extraPullNames: [], authToken: token, cachixApiUrl: api.url }, c.env, recordingLog());
      expect(readFileSync(read.written!.netrcFile!, 'utf8')).toBe(
        `machine other.example.org login me password keepme\nmachine 127.0.0.1 password ${token}\n`,
      );
    } finally {
      await priv.stop();
    }
  });

  it('is an error when Nix does not read the file that was written', async () => {
    const c = confEnv();
    // The action picks its file from one environment, Nix runs with another (as when HOME or
    // NIX_USER_CONF_FILES differ between this step and the Nix that builds).
    const other = confEnv();
    await expect(configureRead(await nixFor(other.env), { extraPullNames: [], substituter: `file://${cacheDir}`, publicKey: key.public }, c.env, recordingLog())).rejects.toThrow(
      new RegExp(`Nix does not see the cache settings written to ${c.userFile}: substituters lacks file://${cacheDir}`),
    );
  });

  it('rewrites its own block on a second run instead of piling up', async () => {
    const c = confEnv();
    mkdirSync(join(c.userFile, '..'), { recursive: true });
    writeFileSync(c.userFile, 'keep-outputs = true\n');
    const req = { extraPullNames: [], substituter: `file://${cacheDir}`, publicKey: key.public };
    await configureRead(await nixFor(c.env), req, c.env, recordingLog());
    await configureRead(await nixFor(c.env), req, c.env, recordingLog());
    const conf = readFileSync(c.userFile, 'utf8');
    expect(conf.startsWith('keep-outputs = true\n')).toBe(true);
    expect(conf.match(/extra-substituters/g)).toHaveLength(1);
  });

  it('warns about an unreachable cache but still configures it; an unreachable Cachix API is an error', async () => {
    const c = confEnv();
    const log = recordingLog();
    const closed = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    await configureRead(await nixFor(c.env), { extraPullNames: [], substituter: closed, publicKey: key.public }, c.env, log);
    expect(log.lines.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual([
      `Binary cache ${closed} is not reachable (ECONNREFUSED); Nix will build what it cannot substitute`,
    ]);
    expect(readFileSync(c.userFile, 'utf8')).toContain(`extra-substituters = ${closed}`);
    await expect(configureRead(await nixFor(c.env), { name: 'x', extraPullNames: [], cachixApiUrl: closed }, c.env, log)).rejects.toThrow(
      `Could not reach the Cachix API at ${closed} to look up cache 'x' (ECONNREFUSED)`,
    );
  });

  it('rejects hostile and malformed inputs before writing anything', async () => {
    const c = confEnv();
    const bad: [Partial<Parameters<typeof configureRead>[1]>, RegExp][] = [
      [{ substituter: 'http://a\nrequire-sigs = false', publicKey: key.public }, /Input 'substituter': .*no spaces or newlines/],
      [{ substituter: '-http://x', publicKey: key.public }, /Input 'substituter'/],
      [{ substituter: 'ftp://x', publicKey: key.public }, /Input 'substituter': .*scheme 'ftp:'/],
      [{ substituter: `file://${cacheDir}`, publicKey: 'k:notbase64!' }, /Input 'public-key': .*not a Nix public key/],
      [{ substituter: `file://${cacheDir}`, publicKey: `${key.public}\nrequire-sigs = false` }, /Input 'public-key'/],
      [{ substituter: `file://${cacheDir}` }, /Input 'public-key': is required with substituter/],
      [{ publicKey: key.public }, /Input 'public-key': was given without substituter/],
      [{ name: '::error::x' }, /Input 'name': .*not a Cachix cache name/],
      [{ name: 'a; rm -rf /' }, /Input 'name'/],
      [{ extraPullNames: ['-x'] }, /Input 'extra-pull-names'/],
      [{ name: 'n', authToken: 'a b' }, /Input 'auth-token': contains spaces/],
    ];
    for (const [req, re] of bad) {
      const err = await configureRead(await nixFor(c.env), { extraPullNames: [], cachixApiUrl: api.url, ...req }, c.env, recordingLog()).catch((e) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).oneLine).toMatch(re);
      expect((err as UserError).oneLine).not.toMatch(/\n/);
    }
    expect(existsSync(c.userFile)).toBe(false);
  });
});

describe('push side', () => {
  /** Runs main (snapshot), builds `attr`, then post: what the post step pushes. */
  async function mainBuildPost(over: Partial<CacheInputs>, attr: string, conf = '') {
    const c = confEnv({}, conf);
    const e = c.env;
    // The path must be new to the store after the main step: build, delete, build again.
    await deleteLocal(await realise(e, attr));
    const main = await cacheMain(inputs(over), stepEnv(e, c.temp));
    const out = await realise(e, attr);
    const log = recordingLog();
    const post = await cachePost(inputs(over), stepEnv(e, c.temp, log), main.state!);
    return { main, post, out, log, c };
  }

  it('pushes what the job built, signed with the given key, to a file:// cache', async () => {
    const dir = mkdtempSync(join(root, 'push-file-'));
    const k = keypair(`push-${s}`);
    const { main, post, out, log } = await mainBuildPost({ pushTo: `file://${dir}`, signingKey: k.secret }, 'b');
    expect(main.outputs).toEqual({ pushed: 0, 'push-mode': 'nix-copy' });
    expect(post.outputs).toEqual({ pushed: 1, 'push-mode': 'nix-copy' });
    expect(log.lines.filter((l) => l.level === 'warning')).toEqual([]);
    const hash = out.slice(11, 43);
    expect(readFileSync(join(dir, `${hash}.narinfo`), 'utf8')).toMatch(new RegExp(`^Sig: push-${s}:`, 'm'));
    // Nix itself checks the signature against the public key, and rejects another key.
    const verify = (pk: string) =>
      run('nix', ['store', 'verify', '--store', `file://${dir}`, '--trusted-public-keys', pk, '--sigs-needed', '1', out], { env: base });
    expect((await verify(k.public)).code).toBe(0);
    expect((await verify(key.public)).code).not.toBe(0);
    expect(post.summary).toContain(out);
    // No leftover key file: the secret lived in a temp dir only while pushing.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('nix-actions-key-'))).toEqual([]);
  });

  it('pushes over HTTP (PUT), then pushes nothing the cache already has', async () => {
    const dir = mkdtempSync(join(root, 'push-http-'));
    const srv = await startBinaryCache({ dir });
    try {
      const k = keypair(`http-${s}`);
      const over = { pushTo: srv.url, signingKey: k.secret };
      const first = await mainBuildPost(over, 'c');
      expect(first.post.outputs.pushed).toBe(1);
      const hash = first.out.slice(11, 43);
      expect(srv.requests.some((r) => r.method === 'PUT' && r.path === `/${hash}.narinfo`)).toBe(true);
      // Again, with the path deleted and rebuilt: still new to the store, already in the cache.
      await deleteLocal(first.out);
      const second = await mainBuildPost(over, 'c');
      expect(second.post.outputs).toEqual({ pushed: 0, 'push-mode': 'nix-copy' });
      // offered 1 (ours; others' concurrent paths are filtered out, their number varies), pushed 0
      expect(second.post.summary).toMatch(/\| nix-copy \| http:\/\/127\.0\.0\.1:\d+ \| 1 \| \d+ \| 0 \| [\d.]+ \| ok \|/);
    } finally {
      await srv.stop();
    }
  });

  it('leaves out what push-filter matches', async () => {
    const dir = mkdtempSync(join(root, 'push-filter-'));
    const k = keypair(`f-${s}`);
    const { post, out, log } = await mainBuildPost({ pushTo: `file://${dir}`, signingKey: k.secret, pushFilter: `^(?!.*${s})|cx-b-` }, 'b');
    expect(log.lines).toContainEqual({ level: 'debug', message: `push-filter leaves out ${out}`, where: undefined });
    expect(post.outputs.pushed).toBe(0);
    expect(post.summary).toMatch(/\| 0 \| [1-9]\d* \| 0 \| [\d.]+ \| ok \|/); // offered 0, ours among the filtered
    expect(existsSync(join(dir, `${out.slice(11, 43)}.narinfo`))).toBe(false);
  });

  it('turns a failing push into a warning, or an error with fail-on-push-error', async () => {
    const failDir = mkdtempSync(join(root, 'push-fail-'));
    writeFileSync(join(failDir, 'nix-cache-info'), 'StoreDir: /nix/store\n'); // a cache that exists, whose uploads fail
    const srv = await startBinaryCache({ dir: failDir });
    srv.failPuts = 500;
    try {
      const k = keypair(`fail-${s}`);
      // One attempt: Nix retries failed uploads with back-off, which is right in CI and slow here.
      const once = 'download-attempts = 1\n';
      const soft = await mainBuildPost({ pushTo: srv.url, signingKey: k.secret }, 'b', once);
      expect(soft.post.outputs.pushed).toBe(0);
      const warnings = soft.log.lines.filter((l) => l.level === 'warning').map((l) => l.message);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`^Pushing to ${srv.url} failed: nix copy --to ${srv.url} failed .*HTTP error 500.*set fail-on-push-error: true to fail it`));
      expect(soft.post.summary).toContain('failed:');
      await expect(mainBuildPost({ pushTo: srv.url, signingKey: k.secret, failOnPushError: true }, 'b', once)).rejects.toThrow(
        new RegExp(`^Pushing to ${srv.url} failed`),
      );
    } finally {
      await srv.stop();
    }
  });

  it('stops a stalled push at push-timeout instead of hanging', async () => {
    const srv = await startBinaryCache({ dir: mkdtempSync(join(root, 'push-hang-')) });
    srv.hangPuts = true;
    try {
      const k = keypair(`hang-${s}`);
      const t0 = Date.now();
      const r = await mainBuildPost({ pushTo: srv.url, signingKey: k.secret, pushTimeout: 3 }, 'c');
      expect(Date.now() - t0).toBeLessThan(60000);
      expect(r.log.lines.find((l) => l.level === 'warning')?.message).toMatch(/ran out of time \(push-timeout\)/);
    } finally {
      await srv.stop();
    }
  });

  it('warns on a signing key that is not a Nix secret key, without printing it', async () => {
    const secret = `not-a-key-${s}`;
    const { post, log } = await mainBuildPost({ pushTo: `file://${mkdtempSync(join(root, 'bad-key-'))}`, signingKey: secret }, 'b');
    expect(post.outputs.pushed).toBe(0);
    const warning = log.lines.find((l) => l.level === 'warning')!.message;
    expect(warning).toMatch(/signing-key is not a Nix secret key/);
    expect(JSON.stringify(log.lines)).not.toContain(secret);
  });

  it("masks secrets in Nix's own error output", async () => {
    const token = `sekrit${s}`;
    const k = keypair(`mask-${s}`);
    // The token ends up in the store URL, so Nix repeats it in its error.
    const { log } = await mainBuildPost({ pushTo: `file:///proc/${token}/nope`, signingKey: k.secret, authToken: token }, 'b');
    const text = JSON.stringify(log.lines);
    expect(text).toMatch(/failed/);
    expect(text).toContain('***');
    expect(text).not.toContain(token);
  });

  it('keeps the job green when the post step itself cannot run (snapshot gone), unless fail-on-push-error', async () => {
    const c = confEnv();
    const k = keypair(`gone-${s}`);
    const over = { pushTo: `file://${mkdtempSync(join(root, 'gone-'))}`, signingKey: k.secret };
    const main = await cacheMain(inputs(over), stepEnv(c.env, c.temp));
    rmSync(main.state!.snapshot);
    const log = recordingLog();
    const post = await cachePost(inputs(over), stepEnv(c.env, c.temp, log), main.state!);
    expect(post.outputs).toEqual({ pushed: 0, 'push-mode': 'nix-copy' });
    expect(log.lines.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual([
      expect.stringMatching(/^The cache post step did not push: The store snapshot taken by the main step .* is gone\. .*set fail-on-push-error: true/),
    ]);
    await expect(cachePost(inputs({ ...over, failOnPushError: true }), stepEnv(c.env, c.temp), main.state!)).rejects.toThrow(/snapshot .* is gone/);
  });

  it('refuses hostile push inputs in the main step, before touching Nix or the store', async () => {
    const c = confEnv();
    const cases: [Partial<CacheInputs>, RegExp][] = [
      [{ pushTo: '--option secret-key-files /etc/shadow' }, /^Input 'push-to': .*no spaces or newlines/],
      [{ pushTo: 'file:///x\nfile:///y', signingKey: 'k' }, /^Input 'push-to'/],
      [{ pushTo: 'javascript:alert(1)' }, /^Input 'push-to': .*scheme 'javascript:'/],
      [{ pushTo: `file://${cacheDir}`, pushFilter: '(unclosed' }, /^Input 'push-filter': is not a valid regular expression/],
    ];
    for (const [over, re] of cases) {
      const err = await cacheMain(inputs({ pushFilter: undefined, ...over }), stepEnv(c.env, c.temp)).catch((e) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).oneLine).toMatch(re);
    }
    expect(readdirSync(c.temp)).toEqual([]); // no snapshot taken
    expect(existsSync(c.userFile)).toBe(false);
  });

  it('pushes given paths right away in the main step when asked', async () => {
    const dir = mkdtempSync(join(root, 'push-now-'));
    const k = keypair(`now-${s}`);
    const out = await realise(base, 'b');
    const c = confEnv();
    const main = await cacheMain(inputs({ pushTo: `file://${dir}`, signingKey: k.secret, paths: [out] }), stepEnv(c.env, c.temp));
    expect(main.outputs).toEqual({ pushed: 1, 'push-mode': 'nix-copy' });
    expect(existsSync(join(dir, `${out.slice(11, 43)}.narinfo`))).toBe(true);
  });

  it('reads only, with one notice line, when there is no secret to push with', async () => {
    const c = confEnv();
    const log = recordingLog();
    const main = await cacheMain(inputs({ pushTo: `file://${cacheDir}`, substituter: `file://${cacheDir}`, publicKey: key.public }), {
      ...stepEnv(c.env, c.temp, log),
      eventName: 'pull_request',
      event: { pull_request: { head: { repo: { full_name: 'someone/example', fork: true } }, base: { repo: { full_name: 'vig-os/example' } } } },
    });
    expect(main.outputs).toEqual({ pushed: 0, 'push-mode': 'none' });
    const notices = log.lines.filter((l) => l.level === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0].message).toBe(
      'No signing-key to sign pushed paths with is set (someone/example is a pull request from a fork, and GitHub gives forks no secrets), so this job only reads from the cache and pushes nothing',
    );
    expect(await realise(c.env, 'a')).toBe(outA); // reading still works
    const post = await cachePost(inputs({ pushTo: `file://${cacheDir}` }), stepEnv(c.env, c.temp), main.state!);
    expect(post.outputs).toEqual({ pushed: 0, 'push-mode': 'none' });
  });
});
