import { UserError } from '../errors.js';
import type { Nix } from '../nix/nix.js';

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

interface ArchiveJson {
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
 * `nix flake archive --json` copies the flake and every input into the store and
 * names their store paths; `nix flake metadata --json` gives the lock (rev,
 * narHash) of each. Both are walked together by input name, following `follows`.
 */
export async function flakeSources(nix: Nix, flakeRef: string): Promise<FlakeSources> {
  const meta = await nix.json<any>(['flake', 'metadata', '--json', '--', flakeRef], `nix flake metadata ${flakeRef}`);
  const archive = await nix.json<ArchiveJson>(['flake', 'archive', '--json', '--', flakeRef], `nix flake archive ${flakeRef}`);
  const nodes: Record<string, any> = meta?.locks?.nodes ?? {};
  const rootName: string = meta?.locks?.root ?? 'root';
  const resolve = (ref: string | string[]): string | undefined => {
    if (typeof ref === 'string') return ref;
    // `follows`: a path of input names from the root
    let node = rootName;
    for (const name of ref) {
      const next = nodes[node]?.inputs?.[name];
      if (next === undefined) return undefined;
      const r = resolve(next);
      if (!r) return undefined;
      node = r;
    }
    return node;
  };
  const inputs: LockedInput[] = [];
  const seen = new Set<string>();
  const walk = (nodeName: string, arch: ArchiveJson | undefined, prefix: string) => {
    for (const [name, ref] of Object.entries<any>(nodes[nodeName]?.inputs ?? {})) {
      const child = resolve(ref);
      if (!child || seen.has(child)) continue;
      seen.add(child);
      const locked = (nodes[child]?.locked ?? {}) as Record<string, any>;
      const sub = arch?.inputs?.[name];
      const input = prefix ? `${prefix}/${name}` : name;
      inputs.push({
        input,
        node: child,
        type: locked.type,
        url: lockedUrl(locked),
        rev: locked.rev,
        narHash: locked.narHash,
        lastModified: locked.lastModified,
        path: sub?.path,
        locked,
      });
      walk(child, sub, input);
    }
  };
  walk(rootName, archive, '');
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
