import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { run } from '../process/run.js';
import { isStorePath, STORE_DIR } from '../nix/storepath.js';
import { UserError } from '../errors.js';

/**
 * What this job added to the store, built or substituted: a listing of the store
 * directory at the main step, diffed at the post step. A directory listing costs
 * milliseconds even for large stores (unlike `nix path-info --all`), and it sees
 * substituted paths, which a post-build hook never does.
 */

/** Names in the store directory that are store paths (skipping .links, locks, temp dirs). */
export function listStore(storeDir = STORE_DIR): string[] {
  return readdirSync(storeDir)
    .filter((n) => !n.endsWith('.lock') && !n.endsWith('.chroot') && !n.endsWith('.check'))
    .filter((n) => isStorePath(`${storeDir}/${n}`, storeDir))
    .sort();
}

export function saveSnapshot(file: string, storeDir = STORE_DIR): number {
  const names = listStore(storeDir);
  writeFileSync(file, names.join('\n') + '\n', { mode: 0o600 });
  return names.length;
}

/** Store paths present now and not in the snapshot, without .drv files (build recipes, not results). */
export function newSince(file: string, storeDir = STORE_DIR): string[] {
  let before: Set<string>;
  try {
    before = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  } catch {
    throw new UserError(`The store snapshot taken by the main step (${file}) is gone`, {
      hint: 'Something deleted RUNNER_TEMP between the steps; nothing can be pushed',
    });
  }
  return listStore(storeDir)
    .filter((n) => !before.has(n) && !n.endsWith('.drv'))
    .map((n) => `${storeDir}/${n}`);
}

/** Drops paths that are not valid (half-built, failed, being deleted): only valid paths can be copied. */
export async function validOnly(paths: readonly string[], env?: NodeJS.ProcessEnv): Promise<string[]> {
  const invalid = new Set<string>();
  for (let i = 0; i < paths.length; i += 500) {
    const chunk = paths.slice(i, i + 500);
    const r = await run('nix-store', ['--check-validity', '--print-invalid', ...chunk], { env });
    if (r.code !== 0) throw new UserError(`nix-store --check-validity failed: ${r.stderr.trim().split('\n').pop()}`);
    for (const l of r.stdout.split('\n')) if (l) invalid.add(l.trim());
  }
  return paths.filter((p) => !invalid.has(p));
}
