import { run } from '../../src/runner/index.js';
import { actionsCacheSave } from '../../src/install/actions-cache.js';
import { parseSize } from '../../src/install/cache.js';
import { saveStore } from '../../src/install/post.js';
import { saveSummary } from '../../src/install/summary.js';
import { inputs } from './inputs.js';

// Runs only when the job succeeded (post-if: success()); see cache-save in the README.
void run(
  inputs,
  async (i, rt) => {
    const key = rt.getState('cache-key');
    if (!i.cache || i['cache-save'] !== 'post' || !key) return;
    const result = await saveStore({
      root: rt.getState('root') || '/',
      key,
      paths: JSON.parse(rt.getState('cache-paths') || '[]') as string[],
      hit: rt.getState('cache-hit') === 'true',
      nixBinDir: rt.getState('nix-bin-dir'),
      maxBytes: parseSize(i['cache-max-size']),
      env: rt.env,
      log: rt.log,
      cache: actionsCacheSave,
    });
    rt.log.info(`Store cache: ${result.reason}`);
    await rt.summary(saveSummary(key, result));
  },
  { post: true },
);
