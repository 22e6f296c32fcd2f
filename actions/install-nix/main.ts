import { userInfo } from 'node:os';
import { run } from '../../src/runner/index.js';
import { actionsCacheRestore, actionsCacheSave, cacheServiceAvailable } from '../../src/install/actions-cache.js';
import { parseSize } from '../../src/install/cache.js';
import { installNix } from '../../src/install/install.js';
import { postState, saveNowIfAsked } from '../../src/install/post.js';
import { installSummary, saveSummary } from '../../src/install/summary.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const maxBytes = parseSize(i['cache-max-size']);
  // NIX_ACTIONS_INSTALL_ROOT: install under another root (tests, image builds); `/` otherwise.
  const root = rt.env.NIX_ACTIONS_INSTALL_ROOT || '/';
  let useCache = i.cache;
  if (useCache && !cacheServiceAvailable(rt.env)) {
    rt.log.warning('cache: true, but this job has no Actions cache service (ACTIONS_RESULTS_URL / ACTIONS_RUNTIME_TOKEN unset): /nix is not cached');
    useCache = false;
  }
  const result = await installNix({
    root,
    version: i['nix-version'] || undefined,
    installerUrl: i['installer-url'] || undefined,
    installerSha256: i['installer-sha256'] || undefined,
    trustUpstreamSha256: i['trust-upstream-sha256'],
    extraConf: i['extra-conf'] ?? '',
    githubToken: i['github-token'] || undefined,
    serverUrl: rt.context.serverUrl,
    home: rt.env.HOME || userInfo().homedir,
    user: userInfo().username,
    tmpDir: rt.context.runnerTemp,
    env: rt.env,
    log: rt.log,
    cache: useCache ? actionsCacheRestore(rt.context.workspace) : undefined,
  });
  for (const p of result.exports.path) rt.addPath(p);
  for (const [k, v] of Object.entries(result.exports.vars)) rt.exportVariable(k, v);
  rt.setOutput('nix-version', result.version);
  rt.setOutput('cache-hit', result.cache?.hit ?? false);
  const what = { installed: 'installed', restored: 'restored from the cache; configuration applied', existing: `already installed (${result.existing?.where}); configuration applied` };
  rt.log.info(`Nix ${result.version} ${what[result.action]}`);
  rt.log.info(`nix.conf (${result.conf.file}):\n${result.conf.shown.replace(/^/gm, '  | ')}`);
  await rt.summary(installSummary(result));

  for (const [k, v] of Object.entries(postState(root, result))) rt.saveState(k, v);
  const saved = await saveNowIfAsked(root, result, i['cache-save'], { maxBytes, env: rt.env, log: rt.log, cache: actionsCacheSave });
  if (saved && result.cache) {
    rt.log.info(`Store cache: ${saved.reason}`);
    await rt.summary(saveSummary(result.cache.key, saved));
  }
});
