import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLock } from '../../src/flake/lock.js';
import { checkPolicy, DEFAULT_RULES, type PolicyOptions } from '../../src/flake/policy.js';
import { supportedBranches, supportedReleases } from '../../src/flake/branches.js';

const FIX = join(new URL('../fixtures/flake-lock', import.meta.url).pathname);
const text = (name: string) => readFileSync(join(FIX, name), 'utf8');
const load = (name: string) => parseLock(text(name), name);
const lineOf = (t: string, re: RegExp) => t.split('\n').findIndex((l) => re.test(l)) + 1;

const NOW = new Date('2024-11-20T00:00:00Z');
const opts = (o: Partial<PolicyOptions> = {}): PolicyOptions => ({
  rules: DEFAULT_RULES,
  maxAgeDays: 30,
  nixpkgsInputs: ['nixpkgs'],
  supportedBranches: [],
  allowedHosts: [],
  allowedOwners: [],
  now: NOW,
  ...o,
});

/** A one-input lock whose nixpkgs node has the given locked/original refs. */
function nixpkgsLock(locked: Record<string, unknown>, original: Record<string, unknown>): string {
  return JSON.stringify({ version: 7, root: 'root', nodes: { root: { inputs: { nixpkgs: 'nixpkgs' } }, nixpkgs: { locked, original } } }, null, 2);
}
const fresh = { lastModified: Math.floor(NOW.getTime() / 1000) - 3 * 86400, narHash: 'sha256-x', owner: 'NixOS', repo: 'nixpkgs', rev: 'a'.repeat(40), type: 'github' };

describe('lock policy', () => {
  it('passes a fresh nixpkgs from NixOS on a supported branch', () => {
    expect(checkPolicy(parseLock(nixpkgsLock(fresh, { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' })), opts())).toEqual([]);
  });

  it('flags age, branch and owner of a nixpkgs-like input, at the line where its node starts', () => {
    const lock = nixpkgsLock({ ...fresh, owner: 'jdoe', lastModified: fresh.lastModified - 60 * 86400 }, { type: 'github', owner: 'jdoe', repo: 'nixpkgs', ref: 'nixos-23.05' });
    const v = checkPolicy(parseLock(lock, 'flake.lock'), opts());
    expect(v.map((x) => x.rule)).toEqual(['max-age', 'supported-branch', 'nixos-owner']);
    expect(v[0].message).toBe("Input 'nixpkgs' is 63 days old (limit 30): run nix flake update nixpkgs");
    expect(v[1].message).toMatch(/^Input 'nixpkgs' is on branch 'nixos-23\.05', which is not supported: use one of nixos-unstable, /);
    expect(v[2].message).toBe("Input 'nixpkgs' comes from github:jdoe, not github:NixOS/nixpkgs");
    for (const x of v) expect(x).toMatchObject({ node: 'nixpkgs', file: 'flake.lock', line: lineOf(lock, /^    "nixpkgs": \{/), inputs: ['nixpkgs'] });
  });

  it('a branch taken from an indirect original ref; none given is a violation', () => {
    expect(checkPolicy(parseLock(nixpkgsLock(fresh, { type: 'indirect', id: 'nixpkgs', ref: 'nixos-24.11' })), opts())).toEqual([]);
    const v = checkPolicy(parseLock(nixpkgsLock(fresh, { type: 'indirect', id: 'nixpkgs' })), opts());
    expect(v.map((x) => x.message)).toEqual([expect.stringMatching(/names no branch, so it tracks the repository's default branch/)]);
  });

  it('supported-branches replaces the derived list; max-age-days and nixpkgs-inputs are honoured', () => {
    const lock = parseLock(nixpkgsLock(fresh, { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' }));
    expect(checkPolicy(lock, opts({ supportedBranches: ['nixos-unstable'] })).map((x) => x.rule)).toEqual(['supported-branch']);
    expect(checkPolicy(lock, opts({ maxAgeDays: 2 })).map((x) => x.rule)).toEqual(['max-age']);
    expect(checkPolicy(lock, opts({ maxAgeDays: 2, nixpkgsInputs: ['pkgs'] }))).toEqual([]);
    expect(checkPolicy(lock, opts({ maxAgeDays: 2, rules: ['supported-branch'] }))).toEqual([]);
  });

  it('flags path inputs, unlocked inputs and missing narHash over a whole lock, once per node', () => {
    const v = checkPolicy(load('v5-unlocked.lock'), opts());
    expect(v.map((x) => `${x.node} ${x.rule}`)).toEqual([
      'nixpkgs locked',
      'nixpkgs nar-hash',
      'nixpkgs max-age',
      'nixpkgs supported-branch',
      'nixpkgs nixos-owner',
      'old locked',
    ]);
    const all = checkPolicy(load('all-types.lock'), opts());
    expect(all.map((x) => `${x.node} ${x.rule}`)).toEqual(['local no-path']);
    expect(all[0].line).toBe(lineOf(text('all-types.lock'), /^    "local": \{/));
    // the shared nixpkgs node (also reached through follows) is checked once and names every path to it
    const nix = checkPolicy(load('all-types.lock'), opts({ maxAgeDays: 1 })).find((x) => x.rule === 'max-age')!;
    expect(nix.inputs).toEqual(['nixpkgs', 'devenv/nixpkgs', 'devenv/pre-commit/nixpkgs']);
  });

  it('flags git+file inputs as local', () => {
    const lock = JSON.stringify({ version: 7, root: 'root', nodes: { root: { inputs: { dep: 'dep' } }, dep: { locked: { type: 'git', url: 'file:///tmp/dep', rev: 'a'.repeat(40), narHash: 'sha256-x' }, original: { type: 'git', url: 'file:///tmp/dep' } } } });
    expect(checkPolicy(parseLock(lock), opts()).map((x) => x.message)).toEqual([
      "Input 'dep' is a local file:// input (file:///tmp/dep), which does not exist on another machine: use a git or forge URL",
    ]);
  });

  it('allowed hosts and owners apply when given', () => {
    const v = checkPolicy(load('all-types.lock'), opts({ rules: [], allowedHosts: ['github.com', 'gitlab.example.org', 'GIT.SR.HT'], allowedOwners: ['NixOS', 'tools'] }));
    expect(v.map((x) => `${x.node} ${x.rule}`)).toEqual([
      'docs allowed-hosts',
      'forge allowed-hosts',
      'forge allowed-owners',
      'mono allowed-hosts',
      'pre-commit allowed-owners',
      'src allowed-hosts',
    ]);
  });

  it('an input following the root is the flake itself, not an unlocked input', () => {
    expect(checkPolicy(load('follows-chain.lock'), opts({ rules: ['locked', 'nar-hash'] }))).toEqual([]);
  });
});

describe('supported branches, derived from the release schedule', () => {
  it.each([
    ['2024-05-01', ['23.11', '24.05']],
    ['2024-06-30', ['23.11', '24.05']],
    ['2024-07-01', ['24.05']],
    ['2024-11-20', ['24.05', '24.11']],
    ['2024-12-31', ['24.05', '24.11']],
    ['2025-01-01', ['24.11']],
    ['2025-06-30', ['24.11', '25.05']],
  ])('on %s: %j', (date, releases) => {
    expect(supportedReleases(new Date(`${date}T12:00:00Z`))).toEqual(releases);
  });
  it('includes the rolling and suffixed branch names', () => {
    const b = supportedBranches(new Date('2025-01-10T00:00:00Z'));
    expect(b).toEqual(expect.arrayContaining(['nixos-unstable', 'nixpkgs-unstable', 'nixos-24.11', 'nixos-24.11-small', 'nixpkgs-24.11-darwin', 'release-24.11']));
    expect(b).not.toContain('nixos-24.05');
  });
});
