import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Log } from '../log.js';
import { formatSize, gcToSize, type GcResult } from './cache.js';
import { layout } from './root.js';

/** The save half of the Actions cache, injected so the core never imports @actions/*. */
export interface CacheSave {
  /** The key the cache already holds for these paths, if any (lookup only, no download). */
  lookup(paths: string[], key: string): Promise<string | undefined>;
  /** Saves; returns the cache id, or -1 when the service refused (another job saved it first). */
  save(paths: string[], key: string): Promise<number>;
}

export interface SaveOptions {
  root: string;
  key: string;
  paths: string[];
  /** The exact key was restored by the main step: nothing new to save. */
  hit: boolean;
  nixBinDir: string;
  maxBytes: number;
  env: NodeJS.ProcessEnv;
  log: Log;
  cache: CacheSave;
}

export interface SaveResult {
  saved: boolean;
  reason: string;
  gc?: GcResult;
}

/**
 * Garbage-collects the store down to `maxBytes` and saves it under the key. Cache
 * entries are immutable, so a key the cache already has is not saved again.
 */
export async function saveStore(o: SaveOptions): Promise<SaveResult> {
  if (o.hit) return { saved: false, reason: `the cache already holds ${o.key} (restored in the main step)` };
  const lay = layout(o.root);
  if (!existsSync(lay.store)) return { saved: false, reason: `${lay.store} does not exist` };
  const existing = await o.cache.lookup(o.paths, o.key);
  if (existing === o.key) return { saved: false, reason: `the cache already holds ${o.key}` };
  const nixStore = o.nixBinDir ? join(o.nixBinDir, 'nix-store') : 'nix-store';
  const gc = await o.log.group('Garbage-collecting the store before saving it', () => gcToSize(lay, nixStore, o.maxBytes, o.env, o.log));
  o.log.info(`Store: ${formatSize(gc.before)} before, ${formatSize(gc.after)} after (limit ${formatSize(o.maxBytes)})`);
  const id = await o.cache.save(o.paths, o.key);
  if (id === -1) return { saved: false, reason: 'the cache service did not accept the upload (another job may have saved this key first; see the log)', gc };
  return { saved: true, reason: `saved as ${o.key}`, gc };
}

/**
 * What the post step needs from the main step, as runner state (strings). Only a
 * Nix this action installed or restored is cached (`result.cache` is set then).
 */
export interface CachedInstall {
  nixBinDir: string;
  cache?: { key: string; hit: boolean; paths: string[] };
}

export function postState(root: string, result: CachedInstall): Record<string, string> {
  if (!result.cache) return {};
  return {
    root,
    'nix-bin-dir': result.nixBinDir,
    'cache-key': result.cache.key,
    'cache-hit': String(result.cache.hit),
    'cache-paths': JSON.stringify(result.cache.paths),
  };
}

type SaveContext = Pick<SaveOptions, 'maxBytes' | 'env' | 'log' | 'cache'>;

/** The save the post step makes from the main step's state; undefined when main cached nothing. */
export function saveOptionsFromState(get: (name: string) => string, o: SaveContext): SaveOptions | undefined {
  const key = get('cache-key');
  if (!key) return undefined;
  return {
    ...o,
    root: get('root') || '/',
    key,
    paths: JSON.parse(get('cache-paths') || '[]') as string[],
    hit: get('cache-hit') === 'true',
    nixBinDir: get('nix-bin-dir'),
  };
}

/**
 * `cache-save: now`: save the store right after this (re)run of the main step,
 * for a job that wants it saved before a later step, or when it failed
 * (`if: failure()`), where the post step does not run. `hit: false`: a rerun finds
 * Nix already installed and restores nothing, so whether the key is already saved
 * is asked of the cache itself (saveStore's lookup). Undefined when there is
 * nothing to do.
 */
export async function saveNowIfAsked(root: string, result: CachedInstall, when: 'post' | 'now' | 'never', o: SaveContext): Promise<SaveResult | undefined> {
  if (when !== 'now' || !result.cache) return undefined;
  return saveStore({ ...o, root, key: result.cache.key, paths: result.cache.paths, hit: false, nixBinDir: result.nixBinDir });
}
