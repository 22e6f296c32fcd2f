import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAll, git, initRepo } from './git.js';
import { flakeNix, nixEnv, salt } from './nix.js';

/**
 * A pull request whose flake.lock files were written by real Nix over local git
 * inputs (no network): an `origin` repository with `main` (the base) and `pr`
 * (the head), where the head updates one input, adds one, removes one and adds a
 * follows. The `dep` input carries a package whose version moves 1.0 -> 1.1, so a
 * package-level diff has something to find.
 */
export interface FlakePr {
  origin: string;
  baseSha: string;
  headSha: string;
  /** Unique salt in every store path this scenario builds. */
  salt: string;
  deps: { dep: string; nixpkgs: string; extra: string; old: string };
  depRevs: string[];
}

const lock = (dir: string, ...args: string[]) =>
  execFileSync('nix', ['flake', 'lock', ...args], { cwd: dir, env: nixEnv(), stdio: ['ignore', 'ignore', 'pipe'] });

function depRepo(name: string, body: string, inputs = '', date?: string): { dir: string; rev: string } {
  const dir = initRepo(mkdtempSync(join(tmpdir(), `flake-diff-${name}-`)));
  writeFileSync(join(dir, 'flake.nix'), flakeNix(body, { inputs }));
  return { dir, rev: commitAll(dir, `${name} 1`, date) };
}

export function makeFlakePr(options: { nixpkgsDate?: string } = {}): FlakePr {
  const s = salt();
  // A stand-in named nixpkgs (the policy rules look at it), committed long ago.
  const nixpkgs = depRepo('nixpkgs', `{ lib.version = "${s}"; }`, '', options.nixpkgsDate ?? '2020-01-01T00:00:00Z');
  const lib = (v: string) => `{ packages.\${system}.lib = mk "libfoo-${v}" "echo ${s} ${v} > $out"; }`;
  const dep = depRepo('dep', lib('1.0'), 'nixpkgs.url = "git+file://' + nixpkgs.dir + '";');
  const extra = depRepo('extra', '{ }');
  const old = depRepo('old', '{ }');
  const app = (withExtra: boolean) =>
    flakeNix(
      `{ packages.\${system}.default = mk "app-${s.slice(0, 4)}" "mkdir $out; echo \${inputs.dep.packages.\${system}.lib} > $out/lib"; }`,
      {
        inputs: [
          `nixpkgs.url = "git+file://${nixpkgs.dir}";`,
          `dep.url = "git+file://${dep.dir}";`,
          withExtra ? `extra.url = "git+file://${extra.dir}";` : `old.url = "git+file://${old.dir}";`,
          withExtra ? 'dep.inputs.nixpkgs.follows = "nixpkgs";' : '',
        ].join(' '),
      },
    );
  const origin = initRepo(mkdtempSync(join(tmpdir(), 'flake-diff-origin-')));
  writeFileSync(join(origin, 'flake.nix'), app(false));
  git(origin, 'add', '-A');
  lock(origin);
  const baseSha = commitAll(origin, 'base: lock');
  // dep moves to 1.1; the pull request updates it with `nix flake lock --update-input`
  writeFileSync(join(dep.dir, 'flake.nix'), flakeNix(lib('1.1'), { inputs: 'nixpkgs.url = "git+file://' + nixpkgs.dir + '";' }));
  const dep2 = commitAll(dep.dir, 'dep 2');
  git(origin, 'checkout', '-q', '-b', 'pr');
  writeFileSync(join(origin, 'flake.nix'), app(true));
  git(origin, 'add', '-A');
  lock(origin, '--update-input', 'dep');
  const headSha = commitAll(origin, 'pr: update dep, add extra, drop old');
  git(origin, 'checkout', '-q', 'main');
  return { origin, baseSha, headSha, salt: s, deps: { dep: dep.dir, nixpkgs: nixpkgs.dir, extra: extra.dir, old: old.dir }, depRevs: [dep.rev, dep2] };
}

/** A shallow clone of the pull-request head (`git clone --depth 1`), as actions/checkout makes one. */
export function shallowClone(pr: FlakePr, branch = 'pr'): string {
  const dir = mkdtempSync(join(tmpdir(), 'flake-diff-checkout-'));
  execFileSync('git', ['clone', '-q', '--depth', '1', '--branch', branch, `file://${pr.origin}`, dir], { stdio: 'pipe' });
  return dir;
}
