import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { installNix, type InstallOptions } from '../../src/install/install.js';
import { postState, saveNowIfAsked, saveOptionsFromState, saveStore } from '../../src/install/post.js';
import { installSummary } from '../../src/install/summary.js';
import { storeSize } from '../../src/install/cache.js';
import { resolveInRoot } from '../../src/install/root.js';
import type { ReleaseTable } from '../../src/install/releases.js';
import type { NixSystem } from '../../src/install/platform.js';
import { nixEnv, salt, SYSTEM } from '../helpers/nix.js';
import { makeTestRelease, serveFiles, type FileServer, type TestRelease } from '../helpers/nix-tarball.js';
import { startCacheService, type CacheService } from '../helpers/cache-service.js';
import { tempDirs } from '../helpers/tmp.js';


/** Temporary directories, removed after the tests (read-only store paths included). */
const tmp = tempDirs();

/**
 * The installer against a real tarball in the official layout, made from store paths
 * this test builds, served over loopback HTTP, installed into temporary roots (never
 * the machine's /nix). Registration and the profile are done by the tarball's own
 * nix-store and nix-env, which run the host's Nix 2.8.
 */
let release: TestRelease;
let server: FileServer;
let served: string;
let table: ReleaseTable;
const system = SYSTEM as NixSystem;
const roots: string[] = [];

beforeAll(async () => {
  release = makeTestRelease();
  served = tmp('install-nix-served-');
  // The official layout of releases.nixos.org: nix-<v>/nix-<v>-<system>.tar.xz
  mkdirSync(join(served, `nix-${release.version}`));
  copyFileSync(release.file, join(served, `nix-${release.version}`, release.fileName));
  server = await serveFiles(served);
  table = { [release.version]: { [system]: { sha256: release.sha256, source: 'test fixture' } } };
});

afterAll(async () => {
  await server?.close();
  for (const r of roots) {
    if (!existsSync(r)) continue;
    execFileSync('chmod', ['-R', 'u+w', r]);
    rmSync(r, { recursive: true, force: true });
  }
  release?.cleanup();
});

function newRoot(): string {
  const r = tmp('install-nix-root-');
  roots.push(r);
  return r;
}

function options(root: string, extra: Partial<InstallOptions> = {}): InstallOptions & { log: ReturnType<typeof recordingLog> } {
  const log = recordingLog();
  const home = join(root, 'home');
  return {
    root,
    system,
    extraConf: '',
    serverUrl: 'https://github.com',
    home,
    user: 'runner',
    tmpDir: join(root, 'tmp'),
    env: hostEnv(),
    table,
    releasesUrl: server.url,
    certFiles: [],
    ...extra,
    log,
  } as InstallOptions & { log: ReturnType<typeof recordingLog> };
}

/** The test process's env without a CA bundle setting (so the export is computed). */
function hostEnv(): NodeJS.ProcessEnv {
  const env = nixEnv();
  delete env.NIX_SSL_CERT_FILE;
  return env;
}

const tarballPath = () => `/nix-${release.version}/${release.fileName}`;
const nixIn = (root: string, args: string[]) =>
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', '--store', root, ...args], { env: nixEnv(), encoding: 'utf8' });

async function failure(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('install from the pinned table', () => {
  let root: string;
  let result: Awaited<ReturnType<typeof installNix>>;
  let before: number;

  beforeAll(async () => {
    root = newRoot();
    before = server.requests.length;
    result = await installNix(options(root, { githubToken: 'ghs_secretToken123', extraConf: 'substituters = \nkeep-outputs = true' }));
  });

  it('downloads the tarball once, verifies it and reports the version', () => {
    expect(server.requests.slice(before)).toEqual([tarballPath()]);
    expect(result.action).toBe('installed');
    expect(result.version).toBe(release.version);
    expect(result.download?.sha256).toBe(release.sha256);
    expect(result.source?.trust).toBe('table');
    expect(result.storePaths).toEqual({ added: release.closure.length, present: 0 });
  });

  it('unpacks every store path into the root and registers them with the tarball nix-store', () => {
    for (const p of release.closure) expect(existsSync(join(root, p))).toBe(true);
    // Valid in the root's own database, with the references from .reginfo.
    const valid = nixIn(root, ['path-info', '--recursive', release.nixPath]).trim().split('\n').sort();
    expect(valid).toEqual([release.depPath, release.nixPath].sort());
    // Read-only, as the official installer leaves them.
    expect(statSync(join(root, release.nixPath, 'bin')).mode & 0o222).toBe(0);
  });

  it('creates the default profile with Nix and the CA bundle', () => {
    const profile = join(root, 'nix/var/nix/profiles/default');
    expect(readlinkSync(profile)).toBe('default-1-link');
    const nix = resolveInRoot(root, join(profile, 'bin', 'nix'));
    expect(nix).toBe(join(root, release.nixPath, 'bin', 'nix'));
    expect(resolveInRoot(root, join(profile, 'etc/ssl/certs/ca-bundle.crt'))).toBe(join(root, release.cacertPath, 'etc/ssl/certs/ca-bundle.crt'));
    expect(execFileSync(nix!, ['--version'], { encoding: 'utf8' })).toContain(release.version);
  });

  it('leaves no unpack folder and no download behind', () => {
    expect(readdirSync(join(root, 'nix')).sort()).toEqual(['store', 'var']);
    expect(existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : []).toEqual([]);
  });

  it('writes nix.conf in order, with the token for the GitHub host, mode 0600', () => {
    const conf = readFileSync(join(root, 'etc/nix/nix.conf'), 'utf8');
    const lines = conf.trim().split('\n');
    expect(lines.slice(1, -1)).toEqual([
      'experimental-features = nix-command flakes',
      'build-users-group =',
      'access-tokens = github.com=ghs_secretToken123',
      'trusted-users = root runner',
      'max-jobs = auto',
      'substituters = ',
      'keep-outputs = true',
    ]);
    expect(statSync(join(root, 'etc/nix/nix.conf')).mode & 0o777).toBe(0o600);
    expect(result.conf.shown).toContain('access-tokens = github.com=***');
    expect(result.conf.shown).not.toContain('ghs_secretToken123');
  });

  it('exports PATH, NIX_PROFILES, NIX_SSL_CERT_FILE and the root for later steps', () => {
    const profile = join(root, 'nix/var/nix/profiles/default');
    const home = join(root, 'home');
    expect(result.exports.path).toEqual([join(profile, 'bin'), join(home, '.nix-profile', 'bin')]);
    expect(result.exports.vars).toEqual({
      NIX_PROFILES: `${profile} ${home}/.nix-profile`,
      NIX_SSL_CERT_FILE: join(profile, 'etc/ssl/certs/ca-bundle.crt'),
      NIX_CONF_DIR: join(root, 'etc/nix'),
      NIX_REMOTE: `local?root=${root}`,
    });
    // A later step with these exports runs the installed Nix against the root's store.
    const out = execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'path-info', release.cacertPath], {
      env: { ...nixEnv(), ...result.exports.vars, PATH: `${result.exports.path[0]}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(release.cacertPath);
  });

  it('a rerun on the installed store applies the configuration and does not reinstall', async () => {
    const n = server.requests.length;
    const again = await installNix(options(root, { extraConf: 'keep-derivations = false' }));
    expect(server.requests.length).toBe(n);
    expect(again.action).toBe('existing');
    expect(again.existing?.ours).toBe(true);
    expect(again.version).toBe(release.version);
    const conf = readFileSync(join(root, 'etc/nix/nix.conf'), 'utf8');
    expect(conf.match(/BEGIN vig-os/g)).toHaveLength(1);
    expect(conf).toContain('keep-derivations = false');
    expect(conf).not.toContain('keep-outputs');
    expect(conf).not.toContain('access-tokens');
    expect(statSync(join(root, 'etc/nix/nix.conf')).mode & 0o777).toBe(0o644);
  });

  it('a rerun asking for another version fails instead of guessing', async () => {
    const e = await failure(installNix(options(root, { version: '2.99.1' })));
    expect(e.oneLine).toMatch(`Nix ${release.version} is already installed`);
    expect(e.oneLine).toMatch(/asks for 2\.99\.1.*Remove nix-version/);
  });
});

describe('refusing what cannot be verified', () => {
  it('a tampered tarball stops before anything is unpacked', async () => {
    const dir = tmp('install-nix-tampered-');
    mkdirSync(join(dir, `nix-${release.version}`));
    const bytes = readFileSync(release.file);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(join(dir, `nix-${release.version}`, release.fileName), bytes);
    const evil = await serveFiles(dir);
    try {
      const root = newRoot();
      const e = await failure(installNix(options(root, { releasesUrl: evil.url })));
      expect(e.oneLine).toMatch(`SHA-256 mismatch for ${evil.url}${tarballPath()}: expected ${release.sha256} (pinned table (test fixture)), got `);
      expect(e.oneLine).toMatch(/Nothing was unpacked or installed/);
      expect(evil.requests).toEqual([tarballPath()]);
      expect(existsSync(join(root, 'nix'))).toBe(false);
      expect(existsSync(join(root, 'etc'))).toBe(false);
      expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    } finally {
      await evil.close();
    }
  });

  it('installer-url with the wrong installer-sha256 is refused', async () => {
    const root = newRoot();
    const wrong = 'a'.repeat(64);
    const e = await failure(installNix(options(root, { installerUrl: `${server.url}${tarballPath()}`, installerSha256: wrong })));
    expect(e.oneLine).toMatch(`expected ${wrong} (input installer-sha256), got ${release.sha256}`);
    expect(existsSync(join(root, 'nix', 'store'))).toBe(false);
  });

  it('a version missing from the table fails with how to pin a hash, without downloading', async () => {
    const n = server.requests.length;
    const e = await failure(installNix(options(newRoot(), { version: '9.9.9' })));
    expect(e.oneLine).toMatch(`Nix 9.9.9 for ${system} is not in the pinned release table of this action (it has: ${release.version})`);
    expect(e.oneLine).toMatch(`installer-url: ${server.url}/nix-9.9.9/nix-9.9.9-${system}.tar.xz and installer-sha256`);
    expect(e.oneLine).toMatch(/trust-upstream-sha256: true/);
    expect(server.requests.length).toBe(n);
  });

  it('hostile inputs fail before any download', async () => {
    const n = server.requests.length;
    const cases: [Partial<InstallOptions>, RegExp][] = [
      [{ githubToken: 'tok\nallowed-uris = https://evil' }, /Input 'github-token': contains whitespace/],
      [{ version: '2.8.0; rm -rf /' }, /Input 'nix-version': '2\.8\.0; rm -rf \/' is not a Nix version/],
      [{ version: '--help' }, /is not a Nix version/],
      [{ version: '::error::pwned' }, /is not a Nix version/],
      [{ installerUrl: 'file:///etc/passwd', installerSha256: release.sha256 }, /only http\(s\) URLs/],
      [{ installerUrl: `${server.url}${tarballPath()}` }, /'installer-url' needs 'installer-sha256'/],
      [{ installerUrl: `${server.url}${tarballPath()}`, installerSha256: 'abc' }, /Input 'installer-sha256': 'abc' is not a SHA-256/],
      [{ installerSha256: release.sha256 }, /only used with 'installer-url'/],
      [{ extraConf: 'ok = 1\nsubstituters = x\n; rm -rf /' }, /Input 'extra-conf': line 3 is not a nix.conf setting \('; rm -rf \/'\)/],
      [{ extraConf: '# BEGIN vig-os/nix-actions/install-nix (rewritten on every run)' }, /block markers/],
    ];
    for (const [extra, message] of cases) {
      const e = await failure(installNix(options(newRoot(), extra)));
      expect(e.oneLine).toMatch(message);
      expect(e.oneLine).not.toContain('\n');
    }
    expect(server.requests.length).toBe(n);
  });
});

describe('other sources of the hash', () => {
  it('installer-url + installer-sha256 (a mirror), SRI spelling, GHES token host', async () => {
    const root = newRoot();
    const sri = `sha256-${Buffer.from(release.sha256, 'hex').toString('base64')}`;
    const r = await installNix(
      options(root, { table: {}, installerUrl: `${server.url}${tarballPath()}`, installerSha256: sri, githubToken: 'tok', serverUrl: 'https://ghes.example.com' }),
    );
    expect(r.action).toBe('installed');
    expect(r.source?.trust).toBe('input');
    expect(r.source?.version).toBe(release.version);
    expect(readFileSync(join(root, 'etc/nix/nix.conf'), 'utf8')).toContain('access-tokens = ghes.example.com=tok\n');
  });

  it('trust-upstream-sha256 fetches the .sha256 file and says so loudly', async () => {
    const dir = tmp('install-nix-upstream-');
    mkdirSync(join(dir, `nix-${release.version}`));
    copyFileSync(release.file, join(dir, `nix-${release.version}`, release.fileName));
    writeFileSync(join(dir, `nix-${release.version}`, `${release.fileName}.sha256`), `${release.sha256}\n`);
    const up = await serveFiles(dir);
    try {
      const o = options(newRoot(), { table: {}, releasesUrl: up.url, version: release.version, trustUpstreamSha256: true });
      const r = await installNix(o);
      expect(up.requests).toEqual([`${tarballPath()}.sha256`, tarballPath()]);
      expect(r.source?.trust).toBe('upstream');
      expect(o.log.lines.filter((l) => l.level === 'warning').map((l) => l.message).join('\n')).toMatch(/^TRUSTING UPSTREAM: Nix .* not in the pinned release table/);
    } finally {
      await up.close();
    }
  });

  it('a tarball for another system is refused after verification, before installing', async () => {
    const other = system === 'x86_64-linux' ? 'aarch64-linux' : 'x86_64-linux';
    // The mirror serves this system's tarball under the other system's name.
    const dir = tmp('install-nix-mixup-');
    const name = `nix-${release.version}-${other}.tar.xz`;
    copyFileSync(release.file, join(dir, name));
    const mirror = await serveFiles(dir);
    try {
      const root = newRoot();
      const e = await failure(installNix(options(root, { system: other as NixSystem, installerUrl: `${mirror.url}/${name}`, installerSha256: release.sha256 })));
      expect(e.oneLine).toBe(`The tarball is for ${system}, but this runner is ${other}. Point installer-url at the tarball for this runner`);
      expect(existsSync(join(root, 'nix', 'store'))).toBe(false);
      expect(readdirSync(join(root, 'nix'))).toEqual([]); // the unpack folder is gone too
    } finally {
      await mirror.close();
    }
  });

  it('keeps a NIX_SSL_CERT_FILE the job set, and prefers the system bundle', async () => {
    const root = newRoot();
    const set = await installNix(options(root, { env: { ...hostEnv(), NIX_SSL_CERT_FILE: '/corp/ca.pem' } }));
    expect(set.exports.vars.NIX_SSL_CERT_FILE).toBeUndefined();
    const bundle = join(root, 'system-ca.crt');
    writeFileSync(bundle, 'ca');
    const sys = await installNix(options(root, { certFiles: [join(root, 'missing.crt'), bundle] }));
    expect(sys.exports.vars.NIX_SSL_CERT_FILE).toBe(bundle);
  });
});

describe('store cache: restore, GC down to cache-max-size, save (local cache service)', () => {
  let service: CacheService;
  const saved: Record<string, string | undefined> = {};
  let workspace: string;

  beforeAll(async () => {
    service = await startCacheService();
    for (const [k, v] of Object.entries({ ...service.env, RUNNER_TEMP: tmp('install-nix-rt-') })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    workspace = tmp('install-nix-ws-');
    writeFileSync(join(workspace, 'flake.lock'), '{"nodes":{},"version":7}');
    mkdirSync(join(workspace, 'sub'));
    writeFileSync(join(workspace, 'sub', 'flake.lock'), `{"salt":"${salt()}"}`);
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await service?.close();
  });

  it('misses, installs, collects garbage, saves; a fresh root then restores instead of installing', async () => {
    const { actionsCacheRestore, actionsCacheSave } = await import('../../src/install/actions-cache.js');
    const root = newRoot();
    const first = await installNix(options(root, { cache: actionsCacheRestore(workspace) }));
    expect(first.action).toBe('installed');
    expect(first.cache?.hit).toBe(false);
    expect(first.cache?.matchedKey).toBeUndefined();
    expect(first.cache?.lockFiles).toEqual(['flake.lock', 'sub/flake.lock']);
    expect(first.cache?.key).toMatch(new RegExp(`^install-nix-v1-Linux-(X64|ARM64)-nix-${release.version.replace(/\./g, '\\.')}-[0-9a-f]{32}$`));
    expect(service.requests.map((r) => r.method)).toEqual(['GetCacheEntryDownloadURL']);
    expect(service.requests[0].body).toMatchObject({ key: first.cache!.key, restore_keys: first.cache!.restoreKeys });

    // Garbage: a path nothing refers to, 256 KiB.
    const junk = join(tmp('install-nix-junk-'), `junk-${salt()}`);
    writeFileSync(junk, Buffer.alloc(256 * 1024, 7));
    const junkPath = execFileSync('nix-store', ['--store', root, '--add', junk], { env: nixEnv(), encoding: 'utf8' }).trim();
    expect(existsSync(join(root, junkPath))).toBe(true);
    const size = storeSize(join(root, 'nix/store'));

    const log = recordingLog();
    const result = await saveStore({
      root,
      key: first.cache!.key,
      paths: first.cache!.paths,
      hit: false,
      nixBinDir: first.nixBinDir,
      maxBytes: size - 100 * 1024,
      env: nixEnv(),
      log,
      cache: actionsCacheSave,
    });
    expect(result.saved).toBe(true);
    expect(result.gc?.collected).toBe(true);
    expect(result.gc!.after).toBeLessThanOrEqual(size - 256 * 1024);
    expect(existsSync(join(root, junkPath))).toBe(false);
    for (const p of release.closure) expect(existsSync(join(root, p))).toBe(true); // live paths stay
    expect(service.requests.map((r) => r.method)).toEqual(['GetCacheEntryDownloadURL', 'GetCacheEntryDownloadURL', 'CreateCacheEntry', 'PUT', 'FinalizeCacheEntryUpload']);
    expect(service.entries).toHaveLength(1);
    expect(service.entries[0]).toMatchObject({ key: first.cache!.key, finalized: true });

    // A fresh runner (same root path: @actions/cache stores paths relative to the
    // workspace, so they restore to the same place): the cache restores /nix and
    // nothing is downloaded.
    const n = server.requests.length;
    execFileSync('chmod', ['-R', 'u+w', root]);
    rmSync(join(root, 'nix'), { recursive: true });
    const second = await installNix(options(root, { cache: actionsCacheRestore(workspace) }));
    expect(server.requests.length).toBe(n);
    expect(second.action).toBe('restored');
    expect(installSummary(second)).toContain(`| What happened | restored /nix from the cache (\`${first.cache!.key}\`): configuration applied, not reinstalled |`);
    expect(installSummary(second)).toContain(`| Cache restored | \`${first.cache!.key}\` (exact) |`);
    expect(second.cache).toMatchObject({ hit: true, matchedKey: first.cache!.key });
    expect(nixIn(root, ['path-info', release.nixPath]).trim()).toBe(release.nixPath);
    expect(existsSync(join(root, junkPath))).toBe(false);

    // Saving again with the exact key restored is a no-op.
    const again = await saveStore({ root, key: second.cache!.key, paths: second.cache!.paths, hit: true, nixBinDir: second.nixBinDir, maxBytes: 1 << 30, env: nixEnv(), log, cache: actionsCacheSave });
    expect(again).toMatchObject({ saved: false });
    expect(service.entries).toHaveLength(1);
  });

  it('cache-save: now saves from the core right after installing; the state hands the post step the same save', async () => {
    const { actionsCacheRestore, actionsCacheSave } = await import('../../src/install/actions-cache.js');
    const ws = tmp('install-nix-ws-now-');
    writeFileSync(join(ws, 'flake.lock'), `{"salt":"${salt()}"}`);
    const root = newRoot();
    const result = await installNix(options(root, { cache: actionsCacheRestore(ws) }));
    expect(result.cache?.hit).toBe(false);
    const ctx = { maxBytes: 1 << 30, env: nixEnv(), log: recordingLog(), cache: actionsCacheSave };

    // What main saves as state is what post reads back: the same save.
    const state = postState(root, result);
    expect(state).toEqual({
      root,
      'nix-bin-dir': result.nixBinDir,
      'cache-key': result.cache!.key,
      'cache-hit': 'false',
      'cache-paths': JSON.stringify(result.cache!.paths),
    });
    expect(saveOptionsFromState((n) => state[n] ?? '', ctx)).toEqual({ ...ctx, root, key: result.cache!.key, paths: result.cache!.paths, hit: false, nixBinDir: result.nixBinDir });
    expect(postState(root, { nixBinDir: result.nixBinDir })).toEqual({});
    expect(saveOptionsFromState(() => '', ctx)).toBeUndefined();

    // post / never: main saves nothing.
    const before = service.requests.length;
    expect(await saveNowIfAsked(root, result, 'post', ctx)).toBeUndefined();
    expect(await saveNowIfAsked(root, result, 'never', ctx)).toBeUndefined();
    expect(await saveNowIfAsked(root, { nixBinDir: result.nixBinDir }, 'now', ctx)).toBeUndefined();
    expect(service.requests.length).toBe(before);

    // now: saved at once; a second time the cache already holds the key.
    const now = await saveNowIfAsked(root, result, 'now', ctx);
    expect(now).toMatchObject({ saved: true, reason: `saved as ${result.cache!.key}` });
    expect(service.entries.filter((e) => e.key === result.cache!.key && e.finalized)).toHaveLength(1);
    expect(await saveNowIfAsked(root, result, 'now', ctx)).toMatchObject({ saved: false, reason: `the cache already holds ${result.cache!.key}` });
    expect(service.entries.filter((e) => e.key === result.cache!.key)).toHaveLength(1);
  });
});

it('keeps what an existing nix.conf says and replaces only its own block on a rerun', async () => {
  const root = newRoot();
  mkdirSync(join(root, 'etc/nix'), { recursive: true });
  writeFileSync(join(root, 'etc/nix/nix.conf'), '# site settings\nsubstituters = https://cache.corp.example\n');
  await installNix(options(root, { extraConf: 'keep-outputs = true' }));
  await installNix(options(root, { extraConf: 'keep-going = true' }));
  const conf = readFileSync(join(root, 'etc/nix/nix.conf'), 'utf8');
  expect(conf.startsWith('# site settings\nsubstituters = https://cache.corp.example\n\n# BEGIN vig-os/nix-actions/install-nix')).toBe(true);
  expect(conf.match(/# BEGIN/g)).toHaveLength(1);
  expect(conf).toContain('keep-going = true');
  expect(conf).not.toContain('keep-outputs');
  expect(conf.endsWith('# END vig-os/nix-actions/install-nix\n')).toBe(true);
});

it('refuses a relative install root', async () => {
  const e = await failure(installNix(options('relative/root')));
  expect(e.oneLine).toMatch(/install root 'relative\/root' is not an absolute path/);
});

it('the store of a fresh install is only the tarball closure plus the profile', async () => {
  const root = newRoot();
  await installNix(options(root));
  const entries = readdirSync(join(root, 'nix/store')).filter((e) => !e.startsWith('.'));
  const closure = release.closure.map((p) => p.slice('/nix/store/'.length));
  expect(entries.filter((e) => !closure.includes(e)).every((e) => /-(user-environment|env-manifest\.nix)(\.drv)?$/.test(e))).toBe(true);
  expect(lstatSync(join(root, 'nix/var/nix/gcroots/profiles')).isSymbolicLink()).toBe(true);
});
