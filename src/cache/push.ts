import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { run, tail } from '../process/run.js';
import type { Nix } from '../nix/index.js';
import { NixError } from '../nix/index.js';
import { isNixSecretKey } from './validate.js';

/**
 * The push side. Two ways out: `nix copy --to <push-to>` (any Nix store; signed
 * with the given secret key), or the cachix CLI for a Cachix cache. Both skip what
 * the cache already has. Every run has a deadline, so the post step cannot hang.
 */

export type PushMode = 'cachix' | 'nix-copy' | 'none';

export interface PushPlan {
  mode: PushMode;
  /** Cachix name or store URL. */
  target: string;
  /** Why nothing is pushed (mode none), one line. */
  reason?: string;
  /** The reason is missing secrets (fork PR): said as a notice. */
  readOnly?: boolean;
  /** Push unsigned (push-to without signing-key, push: true). */
  unsigned?: boolean;
}

export interface PushRequest {
  push: 'auto' | 'true' | 'false';
  name?: string;
  pushTo?: string;
  authToken?: string;
  signingKey?: string;
  /** Pull request from a fork (no secrets by design): named in the notice. */
  forkPr?: string;
}

/** Decides whether and how to push, from the inputs alone. */
export function planPush(req: PushRequest): PushPlan {
  if (req.push === 'false') return { mode: 'none', target: '', reason: 'push is false' };
  const why = (what: string) =>
    `No ${what} is set${req.forkPr ? ` (${req.forkPr} is a pull request from a fork, and GitHub gives forks no secrets)` : ''}, so this job only reads from the cache and pushes nothing`;
  if (req.pushTo) {
    if (req.signingKey) return { mode: 'nix-copy', target: req.pushTo };
    if (req.push === 'true') return { mode: 'nix-copy', target: req.pushTo, unsigned: true };
    return { mode: 'none', target: req.pushTo, reason: why('signing-key to sign pushed paths with'), readOnly: true };
  }
  if (req.name) {
    if (req.authToken || req.signingKey) return { mode: 'cachix', target: req.name };
    return { mode: 'none', target: req.name, reason: why('auth-token or signing-key'), readOnly: true };
  }
  if (req.push === 'true') {
    throw new UserError('push is true but there is nowhere to push', { hint: 'Set name (a Cachix cache) or push-to (a Nix store URL)' });
  }
  return { mode: 'none', target: '', reason: 'no cache to push to (name or push-to)' };
}

/** The pull request's head repository when it is a fork of the base, from the event payload. */
export function forkOf(eventName: string, event: Record<string, any>): string | undefined {
  if (!eventName.startsWith('pull_request')) return undefined;
  const head = event?.pull_request?.head?.repo;
  const base = event?.pull_request?.base?.repo;
  if (!head) return undefined;
  if (head.fork === true || (base?.full_name && head.full_name !== base.full_name)) return String(head.full_name ?? 'the head');
  return undefined;
}

export interface PushResult {
  mode: PushMode;
  target: string;
  /** Paths that were uploaded (the cache lacked them). */
  pushed: string[];
  /** Paths offered (after the filter); the rest were already in the cache. */
  offered: number;
  filtered: number;
  seconds: number;
  /** Why the push failed (reported as a warning unless fail-on-push-error). */
  error?: string;
}

export function applyFilter(paths: readonly string[], filter?: RegExp): { kept: string[]; filtered: number } {
  if (!filter) return { kept: [...paths], filtered: 0 };
  const kept = paths.filter((p) => !filter.test(p));
  return { kept, filtered: paths.length - kept.length };
}

const BINARY_CACHE = /^(https?|s3|file|gs):/;

/** Adds `secret-key=<file>` to a binary cache URL so Nix signs each narinfo as it uploads. */
export function withSecretKey(url: string, keyFile: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}secret-key=${encodeURIComponent(keyFile)}`;
}

/** Store paths named in `nix copy -v` output as copied. */
export function copiedPaths(stderr: string): string[] {
  const out = new Set<string>();
  for (const m of stderr.matchAll(/^copying path '(\/[^']+)' to '/gm)) out.add(m[1]);
  return [...out].sort();
}

export async function pushWithNixCopy(
  nix: Nix,
  paths: readonly string[],
  options: { to: string; signingKey?: string; deadline: number; onLog?: (l: string) => void },
): Promise<string[]> {
  if (paths.length === 0) return [];
  let dir: string | undefined;
  let to = options.to;
  try {
    if (options.signingKey) {
      if (!isNixSecretKey(options.signingKey)) {
        throw new UserError('signing-key is not a Nix secret key', {
          hint: 'Give the secret key file nix-store --generate-binary-cache-key wrote (<name>:<base64 of 64 bytes>)',
        });
      }
      // A 0600 file in a private directory, removed when done: Nix reads keys from files.
      dir = mkdtempSync(join(tmpdir(), 'nix-actions-key-'));
      const keyFile = join(dir, 'secret-key');
      writeFileSync(keyFile, options.signingKey.trim(), { mode: 0o600 });
      if (BINARY_CACHE.test(to)) to = withSecretKey(to, keyFile);
      else await nix.run(['store', 'sign', '--key-file', keyFile, '--recursive', '--', ...paths], 'nix store sign', { timeoutMs: remaining(options.deadline) });
    }
    const args = ['copy', '-v', '--to', to, '--', ...paths];
    try {
      const r = await nix.run(args, `nix copy --to ${options.to}`, { timeoutMs: remaining(options.deadline), onStderrLine: options.onLog });
      return copiedPaths(r.stderr);
    } catch (e) {
      if (e instanceof NixError && e.result.timedOut) throw timeoutError(options.deadline);
      throw e;
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The cachix CLI, when on PATH (it is not packaged for Debian, so tests use a stand-in). */
export async function cachixCli(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await run('sh', ['-c', 'command -v cachix'], { env }).catch(() => undefined);
  return r && r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * Installs the cachix CLI the way cachix-action does (nix-env from cachix.org), with
 * one download attempt and a time limit, so an offline machine fails fast.
 */
export async function installCachix(nix: Nix, deadlineMs: number): Promise<void> {
  const nixEnv = nix.bin.replace(/nix$/, 'nix-env');
  const r = await run(
    nixEnv,
    ['--quiet', '--option', 'download-attempts', '1', '--option', 'connect-timeout', '15', '-iA', 'cachix', '-f', 'https://cachix.org/api/v1/install'],
    { env: nix.env, timeoutMs: Math.max(1000, deadlineMs - Date.now()), redact: nix.redact },
  );
  if (r.code !== 0) {
    throw new UserError(`the cachix CLI is not on PATH and could not be installed: ${tail(r.stderr, 1).replace(/^error:\s*/, '') || (r.timedOut ? 'timed out' : `exit ${r.code}`)}`, {
      hint: 'Install cachix in an earlier step, or push with push-to',
    });
  }
}

/**
 * Store paths the cachix CLI reports as pushed: it prints one
 * `compressing and pushing <path> (<size>)` line per upload attempt (a retry prefixes it).
 */
export function cachixPushedPaths(output: string): string[] {
  const out = new Set<string>();
  for (const m of output.matchAll(/(?:^|\s)(?:compressing and )?pushing (\/nix\/store\/[^\s']+)/gim)) out.add(m[1]);
  return [...out].sort();
}

export async function pushWithCachix(
  cli: string,
  name: string,
  paths: readonly string[],
  options: { authToken?: string; signingKey?: string; env: NodeJS.ProcessEnv; deadline: number; redact: string[] },
): Promise<string[]> {
  if (paths.length === 0) return [];
  // Secrets go by environment, never on the command line (visible in ps).
  const env = { ...options.env };
  if (options.authToken) env.CACHIX_AUTH_TOKEN = options.authToken;
  if (options.signingKey) env.CACHIX_SIGNING_KEY = options.signingKey;
  const r = await run(cli, ['push', name], {
    env,
    input: paths.join('\n') + '\n',
    timeoutMs: remaining(options.deadline),
    redact: options.redact,
  });
  if (r.timedOut) throw timeoutError(options.deadline);
  if (r.code !== 0) {
    throw new UserError(`cachix push ${name} failed (exit ${r.code}): ${tail(r.stderr || r.stdout, 1)}`, { detail: tail(r.stderr + r.stdout, 20) });
  }
  return cachixPushedPaths(`${r.stdout}\n${r.stderr}`);
}

export function remaining(deadline: number): number {
  const ms = deadline - Date.now();
  if (ms <= 0) throw timeoutError(deadline);
  return ms;
}

function timeoutError(_deadline: number): UserError {
  return new UserError('pushing ran out of time (push-timeout) and was stopped', {
    hint: 'Raise push-timeout, or narrow what is pushed with push-filter',
  });
}
