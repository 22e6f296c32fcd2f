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
