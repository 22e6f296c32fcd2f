import { createHash } from 'node:crypto';
import { formatBytes as formatSize } from '../markdown.js';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputError, UserError } from '../errors.js';
import type { Log } from '../log.js';
import { run, tail } from '../process/run.js';
import type { Layout } from './root.js';
import { installEnv, storeArgs } from './store.js';

/** Bump to invalidate every cache this action wrote (a layout change). */
const KEY_SCHEMA = 'v1';
const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv', 'result']);

/** Every flake.lock under the workspace (sorted, relative), with one hash over names and contents. */
export function hashLockFiles(workspace: string, maxDepth = 6): { hash: string; files: string[] } {
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && depth < maxDepth) walk(join(dir, e.name), depth + 1);
      else if (e.isFile() && e.name === 'flake.lock') files.push(join(dir, e.name));
    }
  };
  walk(workspace, 0);
  const rel = files.map((f) => relative(workspace, f)).sort();
  const h = createHash('sha256');
  for (const f of rel) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(workspace, f)));
    h.update('\0');
  }
  return { hash: rel.length ? h.digest('hex').slice(0, 32) : 'no-lock', files: rel };
}

/**
 * The cache key: OS, architecture, Nix version and the flake.lock files. A restore
 * falls back to the newest cache of the same OS, architecture and Nix version.
 */
export function cacheKeys(o: { os: string; arch: string; nixVersion: string; lockHash: string }): { key: string; restoreKeys: string[] } {
  const prefix = `install-nix-${KEY_SCHEMA}-${o.os}-${o.arch}-nix-${o.nixVersion}-`;
  return { key: `${prefix}${o.lockHash}`, restoreKeys: [prefix] };
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses `cache-max-size`: a number of bytes with an optional K/M/G/T suffix (binary units). */
export function parseSize(text: string, input = 'cache-max-size'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new InputError(input, `expected a size such as 4G or 500M, got '${text.replace(/[\r\n]+/g, ' ').slice(0, 40)}'`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  if (bytes <= 0) throw new InputError(input, 'must be more than zero');
  return bytes;
}

/** A size for people (also in the summaries). */
export { formatBytes as formatSize } from '../markdown.js';

/** Bytes the store takes on disk (apparent sizes; hard links counted once). */
export function storeSize(storeDir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (p: string) => {
    const st = lstatSync(p, { bigint: false });
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    total += st.size;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  try {
    for (const e of readdirSync(storeDir)) walk(join(storeDir, e));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  return total;
}

export interface GcResult {
  before: number;
  after: number;
  /** True when the store was over the limit and the collector ran. */
  collected: boolean;
}

/**
 * Garbage-collects the store down to `maxBytes` before it is cached: Nix deletes
 * unreachable paths until it freed the excess (live paths are never touched, so a
 * store whose live part is larger stays larger, and we say so).
 */
export async function gcToSize(lay: Layout, nixStore: string, maxBytes: number, env: NodeJS.ProcessEnv, log: Log): Promise<GcResult> {
  const before = storeSize(lay.store);
  if (before <= maxBytes) return { before, after: before, collected: false };
  const r = await run(nixStore, [...storeArgs(lay.root), '--gc', '--max-freed', String(before - maxBytes)], { env: installEnv(env) });
  if (r.code !== 0) {
    throw new UserError(`Garbage collection before saving the cache failed (exit ${r.code}): ${tail(r.stderr, 1)}`, { detail: tail(r.stderr, 20) });
  }
  const after = storeSize(lay.store);
  if (after > maxBytes) {
    log.warning(`The live store is ${formatSize(after)}, more than cache-max-size (${formatSize(maxBytes)}): the cache will be larger than asked`);
  }
  return { before, after, collected: true };
}
