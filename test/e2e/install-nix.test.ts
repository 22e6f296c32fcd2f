import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBundle, runnerFiles } from '../helpers/bundle.js';
import { copyBundle, worldReadable, type BundleCopy } from '../helpers/bundle-copy.js';
import { startCacheService, type CacheService } from '../helpers/cache-service.js';
import { NIX_TEST_CONF, nixEnv, salt } from '../helpers/nix.js';
import { makeTestRelease, serveFiles, type FileServer, type TestRelease } from '../helpers/nix-tarball.js';
import { tempDirs } from '../helpers/tmp.js';


/** Temporary directories, removed after the tests (read-only store paths included). */
const tmp = tempDirs();

/**
 * The install-nix bundle (main and post) under Node 24 with the runner's environment
 * contract, installing into a temporary root (NIX_ACTIONS_INSTALL_ROOT) from a
 * loopback mirror, with the cache service stand-in.
 */
let release: TestRelease;
let server: FileServer;
let service: CacheService;
const roots: string[] = [];

beforeAll(async () => {
  release = makeTestRelease();
  server = await serveFiles(join(release.file, '..'));
  service = await startCacheService();
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  for (const r of roots) {
    if (!existsSync(r)) continue;
    execFileSync('chmod', ['-R', 'u+w', r]);
    rmSync(r, { recursive: true, force: true });
  }
  release?.cleanup();
});

function setup() {
  const root = tmp('install-nix-e2e-root-');
  roots.push(root);
  const workspace = tmp('install-nix-e2e-ws-');
  writeFileSync(join(workspace, 'flake.lock'), `{"nodes":{"root":{}},"root":"root","version":7,"salt":"${salt()}"}`);
  return {
    root,
    workspace,
    env: {
      NIX_ACTIONS_INSTALL_ROOT: root,
      HOME: join(root, 'home'),
      NIX_CONFIG: NIX_TEST_CONF,
      NIX_SSL_CERT_FILE: '',
    },
  };
}

/** runBundle, with the runner files folder removed after the tests. */
async function bundle(...args: Parameters<typeof runBundle>): ReturnType<typeof runBundle> {
  const r = await runBundle(...args);
  tmp.track(r.files.dir);
  return r;
}

const mirror = () => ({ 'installer-url': `${server.url}/${release.fileName}`, 'installer-sha256': release.sha256 });

it('main installs and exports; post collects garbage and saves /nix to the cache', async () => {
  nixEnv(); // fails clearly when nix-bin is missing
  const s = setup();
  const token = `ghs_${salt()}`;
  const main = await bundle('install-nix', {
    inputs: { ...mirror(), cache: 'true', 'github-token': token, 'extra-conf': 'keep-outputs = true\n# ::error::a comment, not a workflow command' },
    env: { ...s.env, ...service.env },
    cwd: s.workspace,
  });
  expect(main.stderr).toBe('');
  expect(main.code).toBe(0);
  expect(main.annotations).toEqual([]);
  expect(main.outputs).toEqual({ 'nix-version': release.version, 'cache-hit': 'false' });
  const profile = join(s.root, 'nix/var/nix/profiles/default');
  expect(main.path).toEqual([join(profile, 'bin'), join(s.root, 'home/.nix-profile/bin')]);
  expect(main.env).toMatchObject({
    NIX_PROFILES: `${profile} ${join(s.root, 'home/.nix-profile')}`,
    NIX_CONF_DIR: join(s.root, 'etc/nix'),
    NIX_REMOTE: `local?root=${s.root}`,
  });
  expect(main.env.NIX_SSL_CERT_FILE).toBeTruthy();
  // The token is masked before anything prints it, and only the mask command carries it.
  const lines = main.stdout.split('\n').filter((l) => l.includes(token));
  expect(lines).toEqual([`::add-mask::${token}`]);
  expect(main.summary).toContain('| Nix version | `' + release.version + '` |');
  expect(main.summary).toContain(`| SHA-256 (verified before unpacking) | \`${release.sha256}\` |`);
  expect(main.summary).toContain('access-tokens = github.com=***');
  const conf = join(s.root, 'etc/nix/nix.conf');
  expect(readFileSync(conf, 'utf8')).toContain(`access-tokens = github.com=${token}\n`);
  expect(statSync(conf).mode & 0o777).toBe(0o600);
  expect(main.state['cache-key']).toMatch(/^install-nix-v1-Linux-(X64|ARM64)-nix-/);

  // A later step of the job uses the exported PATH and env.
  const later = execFileSync('nix-store', ['--query', '--requisites', release.nixPath], {
    env: { PATH: `${main.path[0]}:/usr/bin:/bin`, ...main.env, NIX_CONFIG: NIX_TEST_CONF },
    encoding: 'utf8',
  });
  expect(later.trim().split('\n').sort()).toEqual([release.depPath, release.nixPath].sort());

  const junk = join(s.workspace, `junk-${salt()}`);
  writeFileSync(junk, Buffer.alloc(64 * 1024, 1));
  const junkPath = execFileSync('nix-store', ['--store', s.root, '--add', junk], { env: nixEnv(), encoding: 'utf8' }).trim();

  const post = await bundle('install-nix', {
    entry: 'post',
    files: main.files,
    inputs: { ...mirror(), cache: 'true', 'cache-max-size': '1K' },
    env: { ...s.env, ...service.env },
    cwd: s.workspace,
  });
  expect(post.code).toBe(0);
  expect(post.annotations.map((a) => a.level)).toEqual(['warning']); // the live store is over 1K
  expect(post.annotations[0].message).toMatch(/more than cache-max-size \(1\.0 KiB\)/);
  expect(existsSync(join(s.root, junkPath))).toBe(false);
  expect(existsSync(join(s.root, release.nixPath))).toBe(true);
  expect(service.entries.filter((e) => e.key === main.state['cache-key'] && e.finalized)).toHaveLength(1);
  expect(post.summary).toContain('| Saved | yes |');
});

it('cache-save: now in a later step (e.g. if: failure()) saves the store right away', async () => {
  const s = setup();
  const env = { ...s.env, ...service.env };
  const first = await bundle('install-nix', { inputs: { ...mirror(), cache: 'true' }, env, cwd: s.workspace });
  expect(first.code).toBe(0);
  const key = first.state['cache-key'];
  expect(service.entries.some((e) => e.key === key)).toBe(false);
  const n = server.requests.length;
  const later = await bundle('install-nix', { inputs: { ...mirror(), cache: 'true', 'cache-save': 'now' }, env, cwd: s.workspace });
  expect(later.code).toBe(0);
  expect(server.requests.length).toBe(n); // a rerun: nothing downloaded
  expect(later.stdout).toMatch(/already installed/);
  expect(later.summary).toContain('| Saved | yes |');
  expect(service.entries.filter((e) => e.key === key && e.finalized)).toHaveLength(1);
  // Its own post step (cache-save: now) does not save again.
  const post = await bundle('install-nix', { entry: 'post', files: later.files, inputs: { cache: 'true', 'cache-save': 'now' }, env, cwd: s.workspace });
  expect(post.code).toBe(0);
  expect(post.summary).toBe(later.summary);
});

it('a second run on the installed root reports the version and does not download', async () => {
  const s = setup();
  const first = await bundle('install-nix', { inputs: mirror(), env: s.env, cwd: s.workspace });
  expect(first.code).toBe(0);
  const n = server.requests.length;
  const second = await bundle('install-nix', { inputs: { 'extra-conf': 'keep-going = true' }, env: s.env, cwd: s.workspace });
  expect(second.code).toBe(0);
  expect(server.requests.length).toBe(n);
  expect(second.outputs['nix-version']).toBe(release.version);
  expect(second.stdout).toMatch(/already installed \(.*profiles\/default\/bin\/nix\); configuration applied/);
  expect(readFileSync(join(s.root, 'etc/nix/nix.conf'), 'utf8')).toContain('keep-going = true');
  // No cache: the post step has nothing to do.
  const post = await bundle('install-nix', { entry: 'post', files: second.files, inputs: {}, env: s.env, cwd: s.workspace });
  expect(post.code).toBe(0);
  expect(post.summary).toBe(second.summary); // nothing added
});

it('a version missing from the pinned table fails with one error saying how to pin a hash', async () => {
  const s = setup();
  const r = await bundle('install-nix', { inputs: { 'nix-version': '9.9.9' }, env: s.env, cwd: s.workspace });
  expect(r.code).toBe(1);
  expect(r.annotations).toHaveLength(1);
  expect(r.annotations[0].level).toBe('error');
  expect(r.annotations[0].message).toMatch(/^Nix 9\.9\.9 for \S+ is not in the pinned release table of this action \(it has: [^)]+\)\. Pin the hash yourself with installer-url: https:\/\/releases\.nixos\.org\/nix\/nix-9\.9\.9\/nix-9\.9\.9-\S+\.tar\.xz and installer-sha256/);
  expect(r.outputs).toEqual({});
  expect(existsSync(join(s.root, 'nix'))).toBe(false);
});

it('a tampered download fails with one error and installs nothing', async () => {
  const s = setup();
  const r = await bundle('install-nix', { inputs: { ...mirror(), 'installer-sha256': 'f'.repeat(64) }, env: s.env, cwd: s.workspace });
  expect(r.code).toBe(1);
  expect(r.annotations.map((a) => a.level)).toEqual(['error']);
  expect(r.annotations[0].message).toMatch(/^SHA-256 mismatch for .* expected f{64} \(input installer-sha256\), got [0-9a-f]{64}\. Nothing was unpacked/);
  expect(existsSync(join(s.root, 'nix'))).toBe(false);
  expect(r.path).toEqual([]);
});

it('cache: true without a cache service warns and still installs', async () => {
  const s = setup();
  const r = await bundle('install-nix', { inputs: { ...mirror(), cache: 'true' }, env: s.env, cwd: s.workspace });
  expect(r.code).toBe(0);
  expect(r.annotations).toHaveLength(1);
  expect(r.annotations[0]).toMatchObject({ level: 'warning' });
  expect(r.annotations[0].message).toMatch(/no Actions cache service/);
  expect(r.outputs['cache-hit']).toBe('false');
});

it('extra-conf that is not nix.conf fails with the line, before installing', async () => {
  const s = setup();
  const r = await bundle('install-nix', { inputs: { ...mirror(), 'extra-conf': 'max-jobs = 2\n::error file=x::pwned' }, env: s.env, cwd: s.workspace });
  expect(r.code).toBe(1);
  expect(r.annotations).toHaveLength(1);
  expect(r.annotations[0].message).toBe("Input 'extra-conf': line 2 is not a nix.conf setting ('::error file=x::pwned'): write 'name = value'");
  expect(existsSync(join(s.root, 'nix'))).toBe(false);
});

it('a bad cache-max-size fails before installing', async () => {
  const s = setup();
  const r = await bundle('install-nix', { inputs: { ...mirror(), 'cache-max-size': 'lots' }, env: s.env, cwd: s.workspace });
  expect(r.code).toBe(1);
  expect(r.annotations[0].message).toBe("Input 'cache-max-size': expected a size such as 4G or 500M, got 'lots'");
  expect(existsSync(join(s.root, 'nix'))).toBe(false);
});

describe('as an unprivileged runner user, as on GitHub-hosted runners', () => {
  // As root (this machine), the bundle runs as uid 65534; as a non-root CI user, as that user.
  const isRoot = process.getuid?.() === 0;
  const USER = isRoot ? 65534 : process.getuid!();
  // Node and the bundle are copied out of the checkout: a CI clone under /root (0700) is unreadable to uid 65534.
  let copy: BundleCopy;
  let as: { uid?: number; gid?: number; node: string; distDir: string };
  beforeAll(() => {
    copy = copyBundle('install-nix');
    as = { ...(isRoot ? { uid: USER, gid: USER } : {}), node: copy.node, distDir: copy.distDir };
    for (const f of [copy.node, join(copy.distDir, 'install-nix', 'index.js'), join(copy.distDir, 'install-nix', 'post.js')]) {
      expect({ f, readable: worldReadable(f) }).toEqual({ f, readable: true });
    }
  });
  afterAll(() => copy?.cleanup());
  function unprivileged(rootWritable: boolean) {
    const s = setup();
    mkdirSync(join(s.root, 'home'));
    const files = runnerFiles();
    tmp.track(files.dir);
    if (isRoot) for (const d of [files.dir, s.workspace, join(s.root, 'home')]) execFileSync('chown', ['-R', `${USER}:${USER}`, d]);
    if (isRoot) chownSync(s.root, rootWritable ? USER : 0, rootWritable ? USER : 0);
    chmodSync(s.root, rootWritable ? 0o755 : 0o555);
    return { s, files };
  }

  it('installs into a root it owns (store, database and nix.conf belong to the user), then caches it', async () => {
    const { s, files } = unprivileged(true);
    const inputs = { ...mirror(), 'github-token': 'tok', cache: 'true' };
    const env = { ...s.env, ...service.env };
    const r = await bundle('install-nix', { inputs, env, cwd: s.workspace, files, ...as });
    expect(r.annotations).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs['nix-version']).toBe(release.version);
    for (const p of [join(s.root, 'nix'), join(s.root, release.nixPath), join(s.root, 'nix/var/nix/db/db.sqlite'), join(s.root, 'etc/nix/nix.conf')]) {
      expect({ p, uid: statSync(p).uid }).toEqual({ p, uid: USER });
    }
    expect(readFileSync(join(s.root, 'etc/nix/nix.conf'), 'utf8')).toMatch(/^trusted-users = root \S+$/m);
    const post = await bundle('install-nix', { entry: 'post', inputs, env, cwd: s.workspace, files, ...as });
    expect(post.code).toBe(0);
    expect(post.summary).toContain('| Saved | yes |');
    expect(service.entries.filter((e) => e.key === r.state['cache-key'] && e.finalized)).toHaveLength(1);
  });

  it('a root it cannot write: sudo -n makes <root>/nix its own, or the step says what to do', async () => {
    const { s, files } = unprivileged(false);
    const sudo = spawnSync('sudo', ['-n', 'true'], { uid: as.uid, gid: as.gid });
    const r = await bundle('install-nix', { inputs: mirror(), env: s.env, cwd: s.workspace, files, ...as });
    expect(r.stdout).toMatch(/Verified SHA-256/);
    if (sudo.status === 0) {
      // A runner with passwordless sudo (GitHub's): /nix is created for the user.
      expect(r.code).toBe(0);
      expect(statSync(join(s.root, 'nix')).uid).toBe(USER);
    } else {
      expect(r.code).toBe(1);
      expect(r.annotations).toHaveLength(1);
      expect(r.annotations[0].message).toMatch(new RegExp(`^${s.root}/nix is not writable and (sudo is not available|'sudo -n' failed: .*)\\. Create ${s.root}/nix owned by this user before the step`));
      expect(existsSync(join(s.root, 'nix'))).toBe(false);
    }
    chmodSync(s.root, 0o755);
  });
});
