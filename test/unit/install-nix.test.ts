import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { cacheKeys, formatSize, hashLockFiles, parseSize } from '../../src/install/cache.js';
import { BEGIN, END, mergeConf, renderConf } from '../../src/install/config.js';
import { detectSystem, runnerOsArch } from '../../src/install/platform.js';
import { checkVersion, newestVersion, officialTarballUrl, parseSha256, resolveTarball, versionFromFileName } from '../../src/install/releases.js';
import { NIX_RELEASES } from '../../src/install/releases-table.js';
import { layout, resolveInRoot } from '../../src/install/root.js';

const HEX = 'ab'.repeat(32);

describe('platform', () => {
  it('maps the three supported runners and refuses others', () => {
    expect(detectSystem('linux', 'x64')).toBe('x86_64-linux');
    expect(detectSystem('linux', 'arm64')).toBe('aarch64-linux');
    expect(detectSystem('darwin', 'arm64')).toBe('aarch64-darwin');
    expect(() => detectSystem('win32', 'x64')).toThrow(/does not support this runner \(win32 x64\)/);
    expect(runnerOsArch('aarch64-darwin')).toEqual({ os: 'macOS', arch: 'ARM64' });
  });
});

describe('the pinned release table', () => {
  const tableFile = new URL('../../src/install/releases-table.ts', import.meta.url);
  const scriptFile = new URL('../../scripts/update-nix-releases.mjs', import.meta.url);

  it('is exactly what scripts/update-nix-releases writes: its header, and only hashes fetched from the official .sha256 files', () => {
    const text = readFileSync(tableFile, 'utf8');
    // The script's template, from the header comment to the table's opening line.
    const script = readFileSync(scriptFile, 'utf8');
    const template = script.slice(script.indexOf('`/**') + 1, script.indexOf('${body}'));
    expect(template).toMatch(/^\/\*\*\n \* The pinned release table/);
    expect(text.startsWith(template)).toBe(true);
    expect(text.slice(template.length)).toMatch(/^(  '[^']+': \{\n(    '[^']+': \{\n      sha256: '[0-9a-f]{64}',\n      source: '[^'\n]+',\n    \},\n)+  \},\n)*\};\n$/);
    for (const [version, systems] of Object.entries(NIX_RELEASES)) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
      for (const [system, entry] of Object.entries(systems)) {
        expect(['x86_64-linux', 'aarch64-linux', 'aarch64-darwin']).toContain(system);
        expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
        // The script's own wording: the .sha256 it fetched, and the install script it checked.
        expect(entry.source).toMatch(
          new RegExp(`^https://releases\\.nixos\\.org/nix/nix-${version}/nix-${version}-${system}\\.tar\\.xz\\.sha256 \\(fetched \\d{4}-\\d\\d-\\d\\d; also in https://releases\\.nixos\\.org/nix/nix-${version}/install\\)$`),
        );
      }
    }
  });

  it('defaults to the newest version with an entry for the system', () => {
    const table = { '2.9.0': { 'x86_64-linux': { sha256: HEX, source: 's' } }, '2.10.1': { 'aarch64-linux': { sha256: HEX, source: 's' } } };
    expect(newestVersion(table, 'x86_64-linux')).toBe('2.9.0');
    expect(newestVersion(table, 'aarch64-linux')).toBe('2.10.1');
    expect(newestVersion(table, 'aarch64-darwin')).toBeUndefined();
  });
});

describe('resolveTarball', () => {
  const table = { '2.30.0': { 'x86_64-linux': { sha256: HEX, source: 'install script' } } };

  it('uses the table entry and the official URL', async () => {
    const s = await resolveTarball({ system: 'x86_64-linux', table });
    expect(s).toEqual({
      url: 'https://releases.nixos.org/nix/nix-2.30.0/nix-2.30.0-x86_64-linux.tar.xz',
      sha256: HEX,
      version: '2.30.0',
      trust: 'table',
      hashSource: 'pinned table (install script)',
    });
  });

  it('a missing entry names the URL to pin and the opt-in, and fetches nothing', async () => {
    const fetched: string[] = [];
    const fetchText = async (url: string) => {
      fetched.push(url);
      return HEX;
    };
    await expect(resolveTarball({ system: 'x86_64-linux', version: '2.31.0', table, fetchText })).rejects.toThrow(
      /not in the pinned release table of this action \(it has: 2\.30\.0\)/,
    );
    expect(fetched).toEqual([]);
  });

  it('an empty table (as shipped before the update workflow has run) fails with every way to pin, and fetches nothing', async () => {
    const fetched: string[] = [];
    const fetchText = async (url: string) => {
      fetched.push(url);
      return HEX;
    };
    const noDefault = await resolveTarball({ system: 'x86_64-linux', table: {}, fetchText }).catch((e) => e);
    expect(noDefault).toBeInstanceOf(UserError);
    expect(noDefault.oneLine).toBe(
      'The pinned release table of this action has no Nix release for x86_64-linux, so there is no default version. ' +
        'Set nix-version and pin its hash with installer-url: https://releases.nixos.org/nix/nix-<version>/nix-<version>-x86_64-linux.tar.xz and installer-sha256: <sha256 of that file>, ' +
        'or set nix-version with trust-upstream-sha256: true to trust the official .sha256 file fetched over TLS (logged as a warning); ' +
        'the table is filled from the official .sha256 files by scripts/update-nix-releases (run where the internet is)',
    );
    // With a version but no entry: the same three ways, naming the exact file.
    const missing = await resolveTarball({ system: 'aarch64-linux', version: '2.34.6', table: {}, fetchText }).catch((e) => e);
    expect(missing).toBeInstanceOf(UserError);
    expect(missing.oneLine).toMatch(/^Nix 2\.34\.6 for aarch64-linux is not in the pinned release table of this action \(it has: none\)\. /);
    expect(missing.oneLine).toContain('installer-url: https://releases.nixos.org/nix/nix-2.34.6/nix-2.34.6-aarch64-linux.tar.xz and installer-sha256');
    expect(missing.oneLine).toContain('trust-upstream-sha256: true');
    expect(missing.oneLine).toContain('scripts/update-nix-releases');
    expect(fetched).toEqual([]);
    // The opt-in is what makes an empty table usable: the official .sha256, fetched.
    const trusted = await resolveTarball({ system: 'aarch64-linux', version: '2.34.6', table: {}, trustUpstreamSha256: true, fetchText });
    expect(trusted).toMatchObject({ sha256: HEX, trust: 'upstream' });
    expect(fetched).toEqual(['https://releases.nixos.org/nix/nix-2.34.6/nix-2.34.6-aarch64-linux.tar.xz.sha256']);
  });

  it('trust-upstream-sha256 refuses plain http to a remote host', async () => {
    await expect(
      resolveTarball({ system: 'x86_64-linux', version: '2.31.0', table, trustUpstreamSha256: true, releasesUrl: 'http://mirror.example/nix', fetchText: async () => HEX }),
    ).rejects.toThrow(/Refusing to fetch http:\/\/mirror\.example\/nix\/nix-2\.31\.0\/nix-2\.31\.0-x86_64-linux\.tar\.xz\.sha256 without TLS/);
  });

  it('trust-upstream-sha256 rejects a .sha256 file that is not a hash', async () => {
    await expect(
      resolveTarball({ system: 'x86_64-linux', version: '2.31.0', table, trustUpstreamSha256: true, fetchText: async () => '<html>' }),
    ).rejects.toThrow(/is not a SHA-256/);
  });

  it('a mirror URL takes its version from the file name', async () => {
    const s = await resolveTarball({ system: 'aarch64-linux', installerUrl: 'https://m.example/x/nix-2.24.7-aarch64-linux.tar.xz', installerSha256: HEX.toUpperCase() });
    expect(s).toMatchObject({ version: '2.24.7', sha256: HEX, trust: 'input' });
  });
});

describe('input parsing', () => {
  it('versions', () => {
    expect(checkVersion('2.24.10')).toBe('2.24.10');
    expect(checkVersion('2.25.0pre20241101')).toBe('2.25.0pre20241101');
    for (const bad of ['latest', '2', '-2.3', '2.3\n', '2.3 ; id', '$(id)']) expect(() => checkVersion(bad)).toThrow(UserError);
  });

  it('sha256 spellings', () => {
    expect(parseSha256(HEX)).toBe(HEX);
    expect(parseSha256(`sha256-${Buffer.from(HEX, 'hex').toString('base64')}`)).toBe(HEX);
    expect(() => parseSha256('sha256:xyz')).toThrow(/'sha256:xyz' is not a SHA-256/);
  });

  it('file names', () => {
    expect(versionFromFileName('https://x/nix-2.34.6-x86_64-linux.tar.xz?sig=1')).toBe('2.34.6');
    expect(versionFromFileName('https://x/nix.tar.xz')).toBeUndefined();
    expect(officialTarballUrl('2.1.0', 'aarch64-darwin', 'http://h/')).toBe('http://h/nix-2.1.0/nix-2.1.0-aarch64-darwin.tar.xz');
  });

  it('sizes', () => {
    expect(parseSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSize('500M')).toBe(500 * 1024 ** 2);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('1024')).toBe(1024);
    for (const bad of ['', 'lots', '-1G', '0', '4 G B']) expect(() => parseSize(bad)).toThrow(/Input 'cache-max-size'/);
    expect(formatSize(1536)).toBe('1.5 KiB');
  });
});

describe('nix.conf', () => {
  const base = { serverUrl: 'https://github.com', trustedUsers: ['root', 'runner'], extraConf: '', singleUser: false };

  it('renders settings in order, the token keyed by the GitHub host', () => {
    const text = renderConf({ ...base, githubToken: 't0k', serverUrl: 'https://ghe.corp.example:8443/', extraConf: 'a = 1\r\nb = 2\n\n' });
    expect(text).toBe(
      [BEGIN, 'experimental-features = nix-command flakes', 'access-tokens = ghe.corp.example:8443=t0k', 'trusted-users = root runner', 'max-jobs = auto', 'a = 1', 'b = 2', END, ''].join('\n'),
    );
  });

  it('merges into an existing file, replacing only its own block', () => {
    const block1 = renderConf({ ...base, extraConf: 'x = 1' });
    const block2 = renderConf({ ...base, extraConf: 'x = 2' });
    const once = mergeConf('user = setting\n', block1);
    const twice = mergeConf(`${once}after = kept\n`, block2);
    expect(twice).toBe(`user = setting\n\n${block2}after = kept\n`);
    expect(mergeConf('', block1)).toBe(block1);
  });

  it('refuses values that would inject lines', () => {
    expect(() => renderConf({ ...base, githubToken: 'a b' })).toThrow(/Input 'github-token'/);
    expect(() => renderConf({ ...base, trustedUsers: ['root', 'x\ny'] })).toThrow(/not a plain user name/);
    expect(() => renderConf({ ...base, extraConf: 'ok = 1\n-x' })).toThrow(/line 2 is not a nix.conf setting/);
    expect(renderConf({ ...base, extraConf: '!include /etc/nix/extra.conf\n# ::warning::comment' })).toContain('!include /etc/nix/extra.conf');
  });
});

describe('cache key', () => {
  it('covers OS, architecture, Nix version and every flake.lock, with a version-wide restore prefix', () => {
    const ws = mkdtempSync(join(tmpdir(), 'install-unit-ws-'));
    mkdirSync(join(ws, 'a'));
    mkdirSync(join(ws, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(ws, 'flake.lock'), '1');
    writeFileSync(join(ws, 'a', 'flake.lock'), '2');
    writeFileSync(join(ws, 'node_modules', 'x', 'flake.lock'), 'ignored');
    const h1 = hashLockFiles(ws);
    expect(h1.files).toEqual(['a/flake.lock', 'flake.lock']);
    writeFileSync(join(ws, 'a', 'flake.lock'), '3');
    const h2 = hashLockFiles(ws);
    expect(h2.hash).not.toBe(h1.hash);
    writeFileSync(join(ws, 'node_modules', 'x', 'flake.lock'), 'changed');
    expect(hashLockFiles(ws).hash).toBe(h2.hash);
    expect(cacheKeys({ os: 'Linux', arch: 'X64', nixVersion: '2.34.6', lockHash: 'abc' })).toEqual({
      key: 'install-nix-v1-Linux-X64-nix-2.34.6-abc',
      restoreKeys: ['install-nix-v1-Linux-X64-nix-2.34.6-'],
    });
    expect(hashLockFiles(mkdtempSync(join(tmpdir(), 'install-unit-empty-'))).hash).toBe('no-lock');
  });
});

describe('resolveInRoot', () => {
  it('follows absolute links inside the root, as a profile link into /nix/store needs', () => {
    const root = mkdtempSync(join(tmpdir(), 'install-unit-root-'));
    const lay = layout(root);
    mkdirSync(join(root, 'nix/store/abc-nix/bin'), { recursive: true });
    writeFileSync(join(root, 'nix/store/abc-nix/bin/nix'), '');
    mkdirSync(join(root, 'nix/store/def-env'), { recursive: true });
    symlinkSync('/nix/store/abc-nix/bin', join(root, 'nix/store/def-env/bin'));
    mkdirSync(lay.profiles, { recursive: true });
    symlinkSync('/nix/store/def-env', join(lay.profiles, 'default-1-link'));
    symlinkSync('default-1-link', lay.defaultProfile);
    expect(resolveInRoot(root, join(lay.defaultProfile, 'bin', 'nix'))).toBe(join(root, 'nix/store/abc-nix/bin/nix'));
    expect(resolveInRoot(root, join(lay.defaultProfile, 'bin', 'missing'))).toBeUndefined();
    symlinkSync('loop', join(lay.profiles, 'loop'));
    expect(resolveInRoot(root, join(lay.profiles, 'loop'))).toBeUndefined();
  });
});
