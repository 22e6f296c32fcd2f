import { run } from '../../src/runner/index.js';
import { actionsCacheSave } from '../../src/install/actions-cache.js';
import { parseSize } from '../../src/install/cache.js';
import { saveOptionsFromState, saveStore } from '../../src/install/post.js';
import { saveSummary } from '../../src/install/summary.js';
import { inputs } from './inputs.js';

// Runs only when the job succeeded (post-if: success()); see cache-save in the README.
void run(
  inputs,
  async (i, rt) => {
    if (!i.cache || i['cache-save'] !== 'post') return;
    const save = saveOptionsFromState((name) => rt.getState(name), {
      maxBytes: parseSize(i['cache-max-size']),
      env: rt.env,
      log: rt.log,
      cache: actionsCacheSave,
    });
    if (!save) return;
    const result = await saveStore(save);
    rt.log.info(`Store cache: ${result.reason}`);
    await rt.summary(saveSummary(save.key, result));
  },
  { post: true },
);
