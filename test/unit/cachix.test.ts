import { linkSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCachixCache } from '../../src/cache/cachix-api.js';
import { checkConfig, chooseConfTarget, isTrusted, mergeNetrc, renderBlock, replaceBlock, writeCacheConfig } from '../../src/cache/nixconf.js';
import { applyFilter, cachixPushedPaths, copiedPaths, forkOf, planPush, withSecretKey } from '../../src/cache/push.js';
import { checkFilter, checkPublicKey, isNixSecretKey } from '../../src/cache/validate.js';
import { UserError } from '../../src/errors.js';

const PK = `cache-1:${Buffer.alloc(32, 7).toString('base64')}`;
const SK = `cache-1:${Buffer.alloc(64, 7).toString('base64')}`;

describe('planPush', () => {
  it('pushes to push-to with nix copy when a signing key is there', () => {
    expect(planPush({ push: 'auto', pushTo: 's3://b', signingKey: SK })).toEqual({ mode: 'nix-copy', target: 's3://b' });
  });
  it('pushes to Cachix with an auth-token or a signing-key', () => {
    expect(planPush({ push: 'auto', name: 'c', authToken: 't' })).toEqual({ mode: 'cachix', target: 'c' });
    expect(planPush({ push: 'auto', name: 'c', signingKey: 'k' })).toEqual({ mode: 'cachix', target: 'c' });
  });
  it('reads only without secrets, naming the fork when there is one', () => {
    const plan = planPush({ push: 'auto', name: 'c', forkPr: 'someone/repo' });
    expect(plan).toMatchObject({ mode: 'none', readOnly: true });
    expect(plan.reason).toBe(
      'No auth-token or signing-key is set (someone/repo is a pull request from a fork, and GitHub gives forks no secrets), so this job only reads from the cache and pushes nothing',
    );
    expect(planPush({ push: 'true', name: 'c' })).toMatchObject({ mode: 'none', readOnly: true });
  });
  it('push: true to push-to without a key pushes unsigned; push: false never pushes', () => {
    expect(planPush({ push: 'true', pushTo: 'file:///x' })).toEqual({ mode: 'nix-copy', target: 'file:///x', unsigned: true });
    expect(planPush({ push: 'false', name: 'c', authToken: 't' })).toMatchObject({ mode: 'none', reason: 'push is false' });
  });
  it('push: true with nowhere to push is a user error', () => {
    expect(() => planPush({ push: 'true' })).toThrow(UserError);
    expect(planPush({ push: 'auto' })).toMatchObject({ mode: 'none' });
  });
});

describe('forkOf', () => {
  const pr = (head: string, base: string, fork = false) => ({
    pull_request: { head: { repo: { full_name: head, fork } }, base: { repo: { full_name: base } } },
  });
  it('names the head repository of a pull request from a fork', () => {
    expect(forkOf('pull_request', pr('me/x', 'org/x', true))).toBe('me/x');
    expect(forkOf('pull_request_target', pr('me/x', 'org/x'))).toBe('me/x');
  });
  it('is undefined for same-repository pull requests and other events', () => {
    expect(forkOf('pull_request', pr('org/x', 'org/x'))).toBeUndefined();
    expect(forkOf('push', pr('me/x', 'org/x', true))).toBeUndefined();
    expect(forkOf('pull_request', {})).toBeUndefined();
  });
});

describe('chooseConfTarget', () => {
  const yes = () => true;
  it('uses NIX_USER_CONF_FILES first, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(chooseConfTarget({ env: { NIX_USER_CONF_FILES: '/a/nix.conf:/b/nix.conf' }, kind: 'local', trusted: true, writable: yes }).file).toBe('/a/nix.conf');
    expect(chooseConfTarget({ env: { XDG_CONFIG_HOME: '/x' }, kind: 'local', trusted: true, writable: yes }).file).toBe('/x/nix/nix.conf');
    expect(chooseConfTarget({ env: { HOME: '/home/u' }, kind: 'daemon', trusted: true, writable: yes })).toMatchObject({
      file: '/home/u/.config/nix/nix.conf',
      scope: 'user',
      reason: 'the Nix daemon trusts this user',
    });
  });
  it('writes the system file (with sudo when not writable) for a daemon that does not trust the user', () => {
    const t = chooseConfTarget({ env: { HOME: '/home/u', NIX_USER_CONF_FILES: '/a' }, kind: 'daemon', trusted: false, writable: () => false });
    expect(t).toMatchObject({ file: '/etc/nix/nix.conf', scope: 'system', privileged: true });
    expect(chooseConfTarget({ env: { NIX_CONF_DIR: '/n' }, kind: 'daemon', trusted: false, writable: yes })).toMatchObject({ file: '/n/nix.conf', privileged: false });
  });
});

describe('isTrusted', () => {
  it('matches users, @groups and *', () => {
    expect(isTrusted({ 'trusted-users': ['root', '@wheel'] }, 'runner', ['users', 'wheel'])).toBe(true);
    expect(isTrusted({ 'trusted-users': ['root', 'runner'] }, 'runner', [])).toBe(true);
    expect(isTrusted({ 'trusted-users': ['*'] }, 'x', [])).toBe(true);
    expect(isTrusted({ 'trusted-users': ['root', '@wheel'] }, 'runner', ['users'])).toBe(false);
    expect(isTrusted({}, 'root', [])).toBe(true);
  });
});

describe('nix.conf block and netrc', () => {
  const settings = { substituters: ['https://a', 'file:///b'], publicKeys: [PK], netrc: [] };
  it('replaces its own block and keeps the rest', () => {
    const once = replaceBlock('max-jobs = 4', renderBlock(settings));
    expect(once).toBe(`max-jobs = 4\n# BEGIN vig-os/nix-actions/cachix\nextra-substituters = https://a file:///b\nextra-trusted-public-keys = ${PK}\n# END vig-os/nix-actions/cachix\n`);
    const twice = replaceBlock(once + 'sandbox = true\n', renderBlock({ ...settings, substituters: ['https://c'] }, '/n/netrc'));
    expect(twice).toBe(
      `max-jobs = 4\nsandbox = true\n# BEGIN vig-os/nix-actions/cachix\nextra-substituters = https://c\nextra-trusted-public-keys = ${PK}\nnetrc-file = /n/netrc\n# END vig-os/nix-actions/cachix\n`,
    );
  });
  it('writes the netrc as a new 0600 file renamed over the old one: never into the old file, its mode or its links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachix-netrc-'));
    const netrc = join(dir, 'netrc');
    writeFileSync(netrc, 'machine other.example.org login me password keepme\n', { mode: 0o644 });
    // Another name for the same file (a hard link): writing in place would put the token there too.
    const other = join(dir, 'netrc-copy');
    linkSync(netrc, other);
    const inode = statSync(netrc).ino;
    const token = 'tok-secret-1234';
    const target = { file: join(dir, 'nix.conf'), scope: 'user' as const, reason: 'test', privileged: false };
    const written = await writeCacheConfig({ substituters: ['https://a'], publicKeys: [PK], netrc: [{ machine: 'cache.example.org', password: token }] }, target, {});
    expect(written.netrcFile).toBe(netrc);
    expect(statSync(netrc).mode & 0o777).toBe(0o600);
    expect(statSync(netrc).ino).not.toBe(inode);
    expect(readFileSync(netrc, 'utf8')).toBe(`machine other.example.org login me password keepme\nmachine cache.example.org password ${token}\n`);
    expect(readFileSync(other, 'utf8')).toBe('machine other.example.org login me password keepme\n');
    expect(readdirSync(dir).sort()).toEqual(['netrc', 'netrc-copy', 'nix.conf']); // no temporary file left
    expect(readFileSync(target.file, 'utf8')).toContain(`netrc-file = ${netrc}`);
  });

  it('merges netrc entries token-wise, replacing our hosts and keeping default last', () => {
    const existing = 'machine a.cachix.org\n  password old\nmachine other login me password p\ndefault login anon password x\n';
    expect(mergeNetrc(existing, [{ machine: 'a.cachix.org', password: 'new' }])).toBe(
      'machine other login me password p\nmachine a.cachix.org password new\ndefault login anon password x\n',
    );
    expect(mergeNetrc('', [{ machine: 'h', password: 't' }])).toBe('machine h password t\n');
  });
  it('reports every setting Nix does not see', () => {
    expect(checkConfig({ substituters: ['https://a/', 'file:///b'], 'trusted-public-keys': [PK], 'netrc-file': '/n/netrc' }, settings, '/n/netrc')).toEqual([]);
    expect(checkConfig({ substituters: ['https://a'], 'trusted-public-keys': [], 'netrc-file': '/etc/nix/netrc' }, settings, '/n/netrc')).toEqual([
      'substituters lacks file:///b',
      `trusted-public-keys lacks ${PK}`,
      'netrc-file is /etc/nix/netrc, not /n/netrc',
    ]);
  });
});

describe('push helpers', () => {
  it('filters out matching paths and counts them', () => {
    expect(applyFilter(['/nix/store/a-x', '/nix/store/b-y'], /-x$/)).toEqual({ kept: ['/nix/store/b-y'], filtered: 1 });
    expect(applyFilter(['/nix/store/a-x'], undefined)).toEqual({ kept: ['/nix/store/a-x'], filtered: 0 });
  });
  it('adds the secret-key parameter to store URLs with or without a query', () => {
    expect(withSecretKey('file:///c', '/k/sk')).toBe('file:///c?secret-key=%2Fk%2Fsk');
    expect(withSecretKey('s3://b?region=eu', '/k/sk')).toBe('s3://b?region=eu&secret-key=%2Fk%2Fsk');
  });
  it('reads copied paths from nix copy -v, and pushed paths from the cachix CLI', () => {
    const log = "querying info about '/nix/store/aaa-x' on 'file:///c'...\ncopying path '/nix/store/aaa-x' to 'file:///c'...\ncopying path '/nix/store/aaa-x' (128 bytes) to binary cache\n";
    expect(copiedPaths(log)).toEqual(['/nix/store/aaa-x']);
    expect(
      cachixPushedPaths('compressing and pushing /nix/store/bbb-y (1 KiB)\nretry #1 compressing and pushing /nix/store/bbb-y (1 KiB)\ncompressing and pushing /nix/store/ccc-z (2 B)\nAll done.'),
    ).toEqual(['/nix/store/bbb-y', '/nix/store/ccc-z']);
  });
});

describe('validation', () => {
  it('accepts Nix keys and rejects look-alikes', () => {
    expect(checkPublicKey('public-key', PK)).toBe(PK);
    expect(() => checkPublicKey('public-key', SK)).toThrow(/not a Nix public key/); // a secret key pasted as public
    expect(isNixSecretKey(SK)).toBe(true);
    expect(isNixSecretKey(PK)).toBe(false);
    expect(isNixSecretKey(Buffer.alloc(64).toString('base64'))).toBe(false); // a Cachix-style key has no name
  });
  it('names the input when push-filter is not a regular expression', () => {
    expect(() => checkFilter('push-filter', '(')).toThrow(/^Input 'push-filter': is not a valid regular expression/);
    expect(checkFilter('push-filter', '')).toBeUndefined();
  });
  it('checks the Cachix API answer like an input', () => {
    expect(parseCachixCache('c', { uri: 'https://c.cachix.org', publicSigningKeys: [PK], isPublic: true })).toEqual({
      name: 'c',
      uri: 'https://c.cachix.org',
      publicSigningKeys: [PK],
      isPublic: true,
    });
    expect(() => parseCachixCache('c', { uri: 'https://c.cachix.org\nrequire-sigs = false', publicSigningKeys: [PK], isPublic: true })).toThrow(UserError);
    expect(() => parseCachixCache('c', { uri: 'https://c.cachix.org', publicSigningKeys: ['x y'], isPublic: true })).toThrow(UserError);
    expect(() => parseCachixCache('c', { uri: 'https://c.cachix.org' })).toThrow(/lacks uri, publicSigningKeys or isPublic/);
  });
});
