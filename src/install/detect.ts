import { join } from 'node:path';
import { parseNixVersion } from '../nix/nix.js';
import { run } from '../process/run.js';
import { resolveInRoot, type Layout } from './root.js';

export interface ExistingNix {
  /** The nix binary found. */
  bin: string;
  version: string;
  /** Where it was found, for the log. */
  where: string;
  /** True when it is our layout (a default profile under the root), i.e. we can manage it. */
  ours: boolean;
}

/**
 * Finds a Nix that is already there: our default profile under the root (a rerun, or a
 * restored cache), or, on a real root, any `nix` on PATH (a runner image or another
 * installer). Returns undefined when there is none.
 */
export async function detectExisting(lay: Layout, env: NodeJS.ProcessEnv): Promise<ExistingNix | undefined> {
  const candidates: { bin: string; where: string; ours: boolean }[] = [];
  const profileNix = resolveInRoot(lay.root, join(lay.defaultProfile, 'bin', 'nix'));
  if (profileNix) candidates.push({ bin: profileNix, where: `${lay.defaultProfile}/bin/nix`, ours: true });
  if (lay.root === '/') candidates.push({ bin: 'nix', where: 'nix on PATH', ours: false });
  for (const c of candidates) {
    try {
      const r = await run(c.bin, ['--version'], { env, timeoutMs: 30_000 });
      const version = r.code === 0 ? parseNixVersion(r.stdout) : undefined;
      if (version) return { ...c, version };
    } catch {
      // not there: try the next one
    }
  }
  return undefined;
}
