import { UserError } from '../errors.js';
import type { Nix } from '../nix/nix.js';
import { flattenInputs, parseLock } from '../flake/lock.js';

/** `github:o/r?dir=x#attr` -> flake reference and attribute path (default `default`). */
export function splitInstallable(installable: string): { flakeRef: string; attr: string } {
  const hash = installable.indexOf('#');
  const flakeRef = hash < 0 ? installable : installable.slice(0, hash);
  const attr = hash < 0 ? 'default' : installable.slice(hash + 1);
  if (!flakeRef) throw new UserError(`'${installable}' names no flake`, { hint: 'Use a flake installable such as .#devcontainer' });
  if (flakeRef.startsWith('/nix/store/') && !flakeRef.includes('-source')) {
    throw new UserError(`'${installable}' is a store path, not a flake installable`, {
      hint: 'archive needs the flake (sources and lock) to rebuild: use e.g. .#devcontainer',
    });
  }
  return { flakeRef, attr: attr || 'default' };
}

/** One locked flake input as the manifest records it. */
export interface LockedInput {
  /** Input path from the root, e.g. `nixpkgs` or `devshell/nixpkgs`. */
  input: string;
  /** Node name in flake.lock. */
  node: string;
  type?: string;
  url?: string;
  rev?: string;
  narHash?: string;
  lastModified?: number;
  /** The store path `nix flake archive` copied it to. */
  path?: string;
  locked: Record<string, unknown>;
}

export interface FlakeSources {
  /** The flake's own source tree in the store. */
  path: string;
  url: string;
  lockedUrl?: string;
  narHash?: string;
  rev?: string;
  lastModified?: number;
  inputs: LockedInput[];
  /** Every source store path (the flake and each input). */
  storePaths: string[];
}

export interface ArchiveJson {
  path: string;
  inputs?: Record<string, ArchiveJson>;
}

function lockedUrl(locked: Record<string, any>): string | undefined {
  const t = locked.type;
  if (t === 'github' || t === 'gitlab' || t === 'sourcehut') return `${t}:${locked.owner}/${locked.repo}/${locked.rev ?? locked.ref ?? ''}`;
  if (typeof locked.url === 'string') return locked.url;
  if (typeof locked.path === 'string') return `path:${locked.path}`;
  return undefined;
}

/**
 * The locked inputs of a flake with the store path `nix flake archive` copied each
 * to. The lock (`nix flake metadata`'s `locks`) is read with src/flake/lock.ts like
 * every other reader, so follows are resolved the same way and a cycle or a
 * dangling follows is a LockError naming the input, never a stack overflow. Each
 * node is listed once, under the first input path that reaches it in Nix's
 * flattened order; the archive JSON is a tree by input name along the same paths.
 */
export function lockedInputsOf(locks: unknown, archive: ArchiveJson | undefined, flakeRef: string): LockedInput[] {
  if (locks === undefined || locks === null) return [];
  // Rendered as Nix writes flake.lock (two-space indent), so an error's line points near the node.
  const lock = parseLock(JSON.stringify(locks, null, 2), `flake.lock of ${flakeRef}`);
  const inputs: LockedInput[] = [];
  const seen = new Set<string>();
  for (const flat of flattenInputs(lock)) {
    if (flat.follows || seen.has(flat.node.key)) continue;
    seen.add(flat.node.key);
    let sub: ArchiveJson | undefined = archive;
    for (const name of flat.path) sub = sub?.inputs?.[name];
    const locked = (flat.node.locked ?? {}) as Record<string, any>;
    inputs.push({
      input: flat.path.join('/'),
      node: flat.node.key,
      type: locked.type,
      url: lockedUrl(locked),
      rev: locked.rev,
      narHash: locked.narHash,
      lastModified: locked.lastModified,
      path: sub?.path,
      locked,
    });
  }
  return inputs;
}

/**
 * `nix flake archive --json` copies the flake and every input into the store and
 * names their store paths; `nix flake metadata --json` gives the lock (rev,
 * narHash) of each.
 */
export async function flakeSources(nix: Nix, flakeRef: string): Promise<FlakeSources> {
  const meta = await nix.json<any>(['flake', 'metadata', '--json', '--', flakeRef], `nix flake metadata ${flakeRef}`);
  const archive = await nix.json<ArchiveJson>(['flake', 'archive', '--json', '--', flakeRef], `nix flake archive ${flakeRef}`);
  const inputs = lockedInputsOf(meta?.locks, archive, flakeRef);
  const storePaths = new Set<string>([archive.path]);
  const collect = (a: ArchiveJson | undefined) => {
    for (const sub of Object.values(a?.inputs ?? {})) {
      if (sub.path) storePaths.add(sub.path);
      collect(sub);
    }
  };
  collect(archive);
  return {
    path: archive.path,
    url: meta.originalUrl ?? flakeRef,
    lockedUrl: meta.url,
    narHash: meta.locked?.narHash,
    rev: meta.revision ?? meta.locked?.rev,
    lastModified: meta.lastModified ?? meta.locked?.lastModified,
    inputs,
    storePaths: [...storePaths].sort(),
  };
}
