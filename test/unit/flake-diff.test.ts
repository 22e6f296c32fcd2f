import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLock } from '../../src/flake/lock.js';
import { diffLocks } from '../../src/flake/diff.js';
import { compareLink, refUrl, summarizeRef } from '../../src/flake/ref.js';
import { globToRegExp, matchGlob } from '../../src/flake/glob.js';
import { diffClosures } from '../../src/flake/packages.js';

const FIX = join(new URL('../fixtures/flake-lock', import.meta.url).pathname);
const load = (name: string) => parseLock(readFileSync(join(FIX, name), 'utf8'), name);

describe('lock diff by input path', () => {
  const changes = diffLocks(load('all-types.lock'), load('all-types-updated.lock'));
  const by = new Map(changes.map((c) => [c.input, c]));

  it('lists each changed path once with its kind, sorted', () => {
    expect(changes.map((c) => `${c.input}: ${c.change}`)).toEqual([
      'devenv: updated',
      'devenv/pre-commit: updated',
      'devenv/pre-commit/nixpkgs: follows-changed',
      'docs: removed',
      'extra: added',
      'forge: updated',
      'local: type-changed',
      'nixpkgs: updated',
      'src: updated',
    ]);
    // unchanged inputs (mono) and a follows whose target moved (devenv/nixpkgs) are not listed
    expect(by.has('mono')).toBe(false);
    expect(by.has('devenv/nixpkgs')).toBe(false);
  });

  it('gives the old and new locked refs: rev, date, narHash', () => {
    const n = by.get('nixpkgs')!;
    expect(n.old!.locked).toMatchObject({ rev: '4444444444444444444444444444444444444444', date: '2024-11-07T17:20:00.000Z', narHash: 'sha256-FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF=' });
    expect(n.new!.locked).toMatchObject({ rev: '6666666666666666666666666666666666666666', lastModified: 1732000000, date: new Date(1732000000 * 1000).toISOString() });
  });

  it('links a compare view for github, gitlab and gitea, the log for sourcehut, and none for others', () => {
    expect(by.get('nixpkgs')!.link).toBe('https://github.com/NixOS/nixpkgs/compare/4444444444444444444444444444444444444444...6666666666666666666666666666666666666666');
    expect(by.get('devenv')!.link).toBe('https://gitlab.example.org/tools/devenv/-/compare/1111111111111111111111111111111111111111...7777777777777777777777777777777777777777');
    expect(by.get('forge')!.link).toBe('https://codeberg.org/someone/thing/compare/2222222222222222222222222222222222222222...8888888888888888888888888888888888888888');
    expect(by.get('devenv/pre-commit')!.link).toBe('https://git.sr.ht/~sircmpwn/hooks/log/9999999999999999999999999999999999999999');
    expect(by.get('src')!.link).toBeUndefined();
    expect(by.get('src')!.old!.locked!.url).toBe('https://example.org/releases/src-1.0.tar.gz');
    expect(by.get('src')!.new!.locked!.url).toBe('https://example.org/releases/src-1.1.tar.gz');
    expect(by.get('local')!.link).toBeUndefined();
  });

  it('reports a follows change with both targets', () => {
    const f = by.get('devenv/pre-commit/nixpkgs')!;
    expect(f.old!.follows).toBe('devenv/nixpkgs');
    expect(f.new!.follows).toBe('nixpkgs');
  });

  it('a follows that became a locked node is a follows change', () => {
    const a = load('follows-chain.lock');
    const text = readFileSync(join(FIX, 'follows-chain.lock'), 'utf8').replace('"nixpkgs": ["b", "nixpkgs"]', '"nixpkgs": "nixpkgs"');
    const changes = diffLocks(a, parseLock(text));
    expect(changes).toEqual([
      expect.objectContaining({ input: 'a/nixpkgs', change: 'follows-changed', old: expect.objectContaining({ follows: 'b/nixpkgs' }), new: expect.not.objectContaining({ follows: expect.anything() }) }),
    ]);
  });

  it('an absent side is all added or all removed; identical locks have no change', () => {
    const lock = load('all-types.lock');
    expect(diffLocks(undefined, lock).every((c) => c.change === 'added')).toBe(true);
    expect(diffLocks(undefined, lock)).toHaveLength(10);
    expect(diffLocks(lock, undefined).every((c) => c.change === 'removed')).toBe(true);
    expect(diffLocks(lock, load('all-types.lock'))).toEqual([]);
  });

  it('key order inside a locked ref is not a change', () => {
    const text = readFileSync(join(FIX, 'follows-chain.lock'), 'utf8');
    const reordered = text.replace(
      '{ "lastModified": 1700000000, "narHash": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "owner": "o", "repo": "a", "rev": "1111111111111111111111111111111111111111", "type": "github" }',
      '{ "type": "github", "rev": "1111111111111111111111111111111111111111", "repo": "a", "owner": "o", "narHash": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "lastModified": 1700000000 }',
    );
    expect(reordered).not.toBe(text);
    expect(diffLocks(parseLock(text), parseLock(reordered))).toEqual([]);
  });
});

describe('flake references', () => {
  it.each([
    [{ type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: 'abc', narHash: 'h', lastModified: 1 }, 'github:NixOS/nixpkgs/abc'],
    [{ type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' }, 'github:NixOS/nixpkgs/nixos-24.05'],
    [{ type: 'gitlab', owner: 'o', repo: 'r', rev: 'abc', host: 'gitlab.example.org' }, 'gitlab:o/r/abc?host=gitlab.example.org'],
    [{ type: 'sourcehut', owner: '~u', repo: 'r' }, 'sourcehut:~u/r'],
    [{ type: 'indirect', id: 'nixpkgs', ref: 'nixos-unstable' }, 'flake:nixpkgs/nixos-unstable'],
    [{ type: 'git', url: 'https://x.org/r.git', ref: 'main', rev: 'abc', dir: 'sub', revCount: 4 }, 'git+https://x.org/r.git?dir=sub&ref=main&rev=abc'],
    [{ type: 'path', path: '/p', narHash: 'h' }, 'path:/p'],
    [{ type: 'tarball', url: 'https://x.org/a.tar.gz' }, 'https://x.org/a.tar.gz'],
    [{ type: 'file', url: 'https://x.org/a.txt' }, 'file+https://x.org/a.txt'],
    [{ type: 'hg', url: 'https://hg.x.org/r', rev: 'abc' }, 'hg+https://hg.x.org/r?rev=abc'],
  ])('%j is %s', (ref, url) => {
    expect(refUrl(ref)).toBe(url);
  });

  it('summarizes host and owner for forges and URL hosts for others', () => {
    expect(summarizeRef({ type: 'gitlab', owner: 'o', repo: 'r' }).host).toBe('gitlab.com');
    expect(summarizeRef({ type: 'git', url: 'ssh://git@git.example.org/r' }).host).toBe('git.example.org');
    expect(summarizeRef({ type: 'git', url: 'file:///tmp/r' }).host).toBeUndefined();
  });

  it('links no compare view between different repositories or without revs', () => {
    expect(compareLink({ type: 'github', owner: 'a', repo: 'r', rev: '1' }, { type: 'github', owner: 'b', repo: 'r', rev: '2' })).toBeUndefined();
    expect(compareLink({ type: 'github', owner: 'a', repo: 'r' }, { type: 'github', owner: 'a', repo: 'r', rev: '2' })).toBeUndefined();
    expect(compareLink({ type: 'github', owner: 'a', repo: 'r', rev: '1', host: 'ghe.corp' }, { type: 'github', owner: 'a', repo: 'r', rev: '2', host: 'ghe.corp' })).toBe(
      'https://ghe.corp/a/r/compare/1...2',
    );
  });
});

describe('lock-file globs', () => {
  const files = ['flake.lock', 'a/flake.lock', 'a/b/flake.lock', 'a/flake.nix', 'x.lock'];
  it.each([
    ['flake.lock', ['flake.lock']],
    ['*/flake.lock', ['a/flake.lock']],
    ['**/flake.lock', ['flake.lock', 'a/flake.lock', 'a/b/flake.lock']],
    ['a/**', ['a/flake.lock', 'a/b/flake.lock', 'a/flake.nix']],
    ['?.lock', ['x.lock']],
    ['[ax]/flake.lock', ['a/flake.lock']],
  ])('%s', (pattern, expected) => {
    expect(matchGlob(pattern, files)).toEqual(expected);
  });
  it('treats regular-expression characters literally', () => {
    expect(globToRegExp('a+(b).lock').test('a+(b).lock')).toBe(true);
    expect(globToRegExp('a.lock').test('aXlock')).toBe(false);
  });
});

describe('package-level diff between closures', () => {
  const p = (hash: string, name: string) => `/nix/store/${hash.repeat(32).slice(0, 32)}-${name}`;
  it('lists changed, added and removed versions by package name', () => {
    const base = [p('a', 'python3-3.12.4'), p('b', 'openssl-3.0.13'), p('c', 'openssl-3.0.13-bin'), p('d', 'zlib-1.3'), p('k', 'source')];
    const head = [p('f', 'python3-3.12.5'), p('g', 'openssl-3.0.13'), p('h', 'curl-8.9.1'), p('i', 'source'), p('j', 'foo-1.0.drv')];
    expect(diffClosures(base, head)).toEqual([
      { name: 'curl', change: 'added', old: [], new: ['8.9.1'] },
      { name: 'python3', change: 'changed', old: ['3.12.4'], new: ['3.12.5'] },
      { name: 'zlib', change: 'removed', old: ['1.3'], new: [] },
    ]);
  });
  it('compares version sets, sorted numerically', () => {
    expect(diffClosures([p('a', 'gcc-9.5'), p('b', 'gcc-13.2')], [p('c', 'gcc-13.2')])).toEqual([
      { name: 'gcc', change: 'changed', old: ['9.5', '13.2'], new: ['13.2'] },
    ]);
  });
});
