import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { Git, SHA_RE } from '../git/git.js';
import type { BaseChoice } from '../git/base.js';
import { Nix, NixError, build, closure } from '../nix/index.js';
import { detectImage, imageClosure } from '../image/index.js';
import { withCommandsStopped } from '../build/untrusted.js';
import { diffLocks } from './diff.js';
import { isGlob, matchGlob } from './glob.js';
import { LockError, parseLock, type LockFile } from './lock.js';
import { checkPolicy, type PolicyOptions } from './policy.js';
import { diffClosures } from './packages.js';
import { REPORT_VERSION, type FileReport, type PackageReport, type Report } from './report.js';

/**
 * The whole check: find the base commit (fetching it on a shallow checkout),
 * read each lock file at the base and in the working tree, diff, apply the policy,
 * and optionally compare the package closures of an installable.
 */
export interface FlakeDiffOptions {
  /** The checkout (GITHUB_WORKSPACE). */
  cwd: string;
  lockFiles: string[];
  base: BaseChoice;
  token?: string;
  serverUrl?: string;
  policy: PolicyOptions;
  installable?: string;
  log: Log;
  /** Environment for nix (tests pass an offline NIX_CONFIG). */
  env?: NodeJS.ProcessEnv;
}

export async function flakeDiff(options: FlakeDiffOptions): Promise<Report> {
  const { log } = options;
  const git = new Git({ cwd: options.cwd, log, env: options.env });
  if (!(await git.isRepository())) {
    throw new UserError(`${options.cwd} is not a git checkout`, { hint: 'Run actions/checkout before flake-diff' });
  }
  const root = await git.topLevel();
  const headSha = (await git.resolveCommit('HEAD')) ?? '';
  const base = await resolveBase(git, options);
  const paths = await lockPaths(git, root, options.cwd, options.lockFiles, base?.sha);
  const files: FileReport[] = [];
  for (const path of paths) {
    const headText = existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined;
    const baseText = base ? await git.readAt(base.sha, path) : undefined;
    const head = headText !== undefined ? parseLock(headText, path) : undefined;
    let baseLock: LockFile | undefined;
    if (baseText !== undefined) {
      try {
        baseLock = parseLock(baseText, path);
      } catch (e) {
        if (e instanceof LockError) throw new UserError(`At the base ${base!.sha.slice(0, 12)}, ${e.message}`, { file: path });
        throw e;
      }
    }
    const status: FileReport['status'] = !base
      ? head ? 'not-compared' : 'absent'
      : head && baseLock ? 'compared' : head ? 'added' : baseLock ? 'removed' : 'absent';
    if (status === 'absent') log.notice(`${path} is in neither the base nor HEAD: nothing to compare`);
    const report: FileReport = {
      path,
      status,
      ...(baseLock ? { baseVersion: baseLock.version } : {}),
      ...(head ? { headVersion: head.version } : {}),
      changes: base ? diffLocks(baseLock, head) : [],
      violations: head ? checkPolicy(head, options.policy) : [],
    };
    files.push(report);
  }
  let packages: PackageReport | null = null;
  if (options.installable) {
    packages = base
      ? await packageChanges(git, root, options.cwd, base.sha, options.installable, options)
      : null;
    if (!base) log.notice('No base commit, so the package-level comparison is skipped');
  }
  const dirty = (await git.exec(['status', '--porcelain', '--', ...paths.map((p) => `:(top,literal)${p}`)])).stdout.trim() !== '';
  return {
    version: REPORT_VERSION,
    generatedAt: options.policy.now.toISOString(),
    base: base ? { ref: options.base.ref!, sha: base.sha, source: options.base.source, fetched: base.fetched } : null,
    baseReason: options.base.reason,
    head: { sha: headSha, dirty },
    changed: files.some((f) => f.changes.length > 0) || Boolean(packages?.changes.length),
    violations: files.reduce((n, f) => n + f.violations.length, 0),
    policy: {
      rules: options.policy.rules,
      maxAgeDays: options.policy.maxAgeDays,
      nixpkgsInputs: options.policy.nixpkgsInputs,
      supportedBranches: options.policy.supportedBranches,
      allowedHosts: options.policy.allowedHosts,
      allowedOwners: options.policy.allowedOwners,
    },
    files,
    packages,
  };
}

async function resolveBase(git: Git, options: FlakeDiffOptions): Promise<{ sha: string; fetched: boolean } | undefined> {
  const { ref } = options.base;
  const { log } = options;
  if (!ref) {
    log.notice(`No base to compare with: ${options.base.reason}. The policy is still checked`);
    return undefined;
  }
  if (/[\s\0]|^-|\.\.|[~^:?*[\\]/.test(ref)) {
    throw new UserError(`Input 'base': '${ref.replace(/[\r\n]+/g, ' ').slice(0, 60)}' is not a branch, tag or commit SHA`);
  }
  const local = (await git.resolveCommit(ref)) ?? (SHA_RE.test(ref) ? undefined : await git.resolveCommit(`refs/remotes/origin/${ref}`));
  if (local) {
    log.info(`Comparing with ${options.base.reason}: ${local}`);
    return { sha: local, fetched: false };
  }
  const shallow = await git.isShallow();
  log.info(
    `The base ${ref} is not in this ${shallow ? 'shallow ' : ''}clone: fetching just that commit from origin with depth 1`,
  );
  const sha = await git.fetchOne('origin', ref, { token: options.token, serverUrl: options.serverUrl });
  log.info(`Comparing with ${options.base.reason}: ${sha} (fetched)`);
  return { sha, fetched: true };
}

/** The lock files to compare, as paths from the repository root: literal paths, or glob matches on either side. */
async function lockPaths(git: Git, root: string, cwd: string, patterns: string[], baseSha?: string): Promise<string[]> {
  const out = new Set<string>();
  let working: string[] | undefined;
  let atBase: string[] | undefined;
  for (const pattern of patterns) {
    const abs = resolve(cwd, pattern);
    const rel = relative(root, abs).split(sep).join('/');
    if (rel.startsWith('..') || rel === '') throw new UserError(`Input 'lock-file': '${pattern}' is outside the repository`);
    if (!isGlob(rel)) {
      out.add(rel);
      continue;
    }
    working ??= await git.workingFiles();
    atBase ??= baseSha ? await git.filesAt(baseSha) : [];
    const matched = matchGlob(rel, new Set([...working, ...atBase]));
    if (!matched.length) throw new UserError(`Input 'lock-file': the pattern '${pattern}' matches no file at HEAD or at the base`);
    for (const m of matched) out.add(m);
  }
  return [...out].sort();
}

/**
 * Builds the installable at the base (in a temporary git worktree) and at HEAD,
 * then compares the two runtime closures package by package.
 */
async function packageChanges(
  git: Git,
  root: string,
  cwd: string,
  baseSha: string,
  installable: string,
  options: FlakeDiffOptions,
): Promise<PackageReport> {
  const { log } = options;
  const local = /^\.(\/[^#?]*)?(#.*)?$/.exec(installable);
  if (!local) {
    throw new UserError(`Input 'installable': '${installable}' is not a flake in this repository`, {
      hint: 'Use a local installable such as .#devcontainer or ./nix#devcontainer, so it can be evaluated at the base too',
    });
  }
  const flakeDir = relative(root, resolve(cwd, local[1] ? `.${local[1]}` : '.')).split(sep).join('/');
  if (flakeDir.startsWith('..')) throw new UserError(`Input 'installable': '${installable}' is outside the repository`);
  // git+file with shallow=1: Nix refuses `.` in a shallow checkout (actions/checkout's default) otherwise.
  const ref = (dir: string) =>
    `git+file://${encodeURI(dir)}?shallow=1${flakeDir ? `&dir=${encodeURIComponent(flakeDir)}` : ''}${local[2] ?? ''}`;
  const nix = await Nix.detect({ env: options.env, log });
  const worktree = mkdtempSync(join(tmpdir(), 'flake-diff-base-'));
  rmSync(worktree, { recursive: true, force: true });
  try {
    await git.addWorktree(worktree, baseSha);
    const at = async (dir: string, label: string) =>
      log.group(`Building ${installable} at ${label}`, async () => {
        // The build log is the pull request's text: it must not issue workflow commands.
        const built = await withCommandsStopped(log, () => build(nix, [ref(dir)], { onLog: (l) => log.info(l) }));
        const outs = built.flatMap((b) => Object.values(b.outputs));
        return { outs, closure: await shippedPaths(nix, outs) };
      });
    const baseLabel = `the base ${baseSha.slice(0, 12)}`;
    let baseSide: { outs: string[]; closure: string[] };
    let baseMissing: string | undefined;
    try {
      baseSide = await at(worktree, baseLabel);
    } catch (e) {
      // A pull request that adds the installable: nothing to compare with, so every
      // package is new. A build failure of an installable that did evaluate still fails.
      if (!(e instanceof NixError) || !evaluationFailure(e)) throw e;
      baseMissing = e.message.replace(/^[^:]*failed \(exit \d+\): /, '');
      log.notice(`${installable} does not evaluate at ${baseLabel} (${baseMissing}): every package at HEAD is reported as added`);
      baseSide = { outs: [], closure: [] };
    }
    const headSide = await at(root, 'HEAD');
    return {
      installable,
      base: baseSide.outs,
      head: headSide.outs,
      ...(baseMissing !== undefined ? { baseMissing } : {}),
      changes: diffClosures(baseSide.closure, headSide.closure),
    };
  } finally {
    await git.removeWorktree(worktree);
    rmSync(worktree, { recursive: true, force: true });
  }
}

/**
 * What the installable ships: for an image, the store paths in its layers (a
 * compressed image tarball keeps no store references, so its own closure is just
 * itself); for anything else, the runtime closure of its outputs.
 */
async function shippedPaths(nix: Nix, outs: string[]): Promise<string[]> {
  if (outs.length === 1) {
    const image = await detectImage(outs[0]).catch(() => undefined);
    if (image) return (await imageClosure(nix, image)).entries.map((e) => e.path);
  }
  return [...(await closure(nix, outs)).keys()];
}

/**
 * Whether nix failed before building anything: no such flake or attribute, or an
 * evaluation error. A builder that ran and failed is not one.
 */
function evaluationFailure(e: NixError): boolean {
  const err = e.result.stderr;
  return !/\bbuilder for '[^']*' failed|dependencies of derivation '[^']*' failed to build|^\s*building '/m.test(err);
}
