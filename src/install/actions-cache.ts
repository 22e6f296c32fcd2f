/**
 * The edge adapter to @actions/cache (v2 cache service when the runner sets
 * ACTIONS_CACHE_SERVICE_V2): the only file in src/install that imports @actions/*.
 * @actions/cache logs its own warnings and treats service failures as a miss.
 */
import * as cache from '@actions/cache';
import type { CacheRestore } from './install.js';
import type { CacheSave } from './post.js';

export function actionsCacheRestore(workspace: string): CacheRestore {
  return {
    workspace,
    restore: (paths, key, restoreKeys) => cache.restoreCache(paths, key, restoreKeys),
  };
}

export const actionsCacheSave: CacheSave = {
  lookup: (paths, key) => cache.restoreCache(paths, key, [], { lookupOnly: true }),
  save: (paths, key) => cache.saveCache(paths, key),
};

/** True when the runner gave this job a cache service (it does on github.com and GHES with Actions cache). */
export function cacheServiceAvailable(env: NodeJS.ProcessEnv): boolean {
  return cache.isFeatureAvailable() && Boolean(env.ACTIONS_RUNTIME_TOKEN);
}
