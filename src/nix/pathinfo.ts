import { absoluteStorePath } from './storepath.js';
import type { Nix } from './nix.js';

/** One valid store path as `nix path-info --json` describes it, in one shape for every Nix version. */
export interface PathInfo {
  path: string;
  /** As Nix printed it: `sha256:<base32>` (old) or SRI (new). Use hash.ts to convert. */
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  ca?: string;
  signatures: string[];
  closureSize?: number;
}

/**
 * Normalises `path-info --json` output. Nix < 2.19 prints an array of objects with
 * a `path` field; newer Nix prints an object keyed by path (value null when invalid);
 * newest may give hashes as `{algorithm, hash}` objects and bare base names.
 */
export function normalizePathInfo(json: unknown): PathInfo[] {
  const entries: [string, any][] = Array.isArray(json)
    ? json.map((e: any) => [e.path, e])
    : Object.entries((json as any)?.info ?? (json as Record<string, any>) ?? {});
  const out: PathInfo[] = [];
  for (const [path, e] of entries) {
    if (!e || e.valid === false) continue;
    const nar = e.narHash;
    out.push({
      path: absoluteStorePath(path),
      narHash: typeof nar === 'string' ? nar : `${nar?.algorithm ?? 'sha256'}:${nar?.hash ?? ''}`,
      narSize: Number(e.narSize ?? 0),
      references: (e.references ?? []).map((r: string) => absoluteStorePath(r)).sort(),
      deriver: e.deriver ? absoluteStorePath(e.deriver) : undefined,
      ca: typeof e.ca === 'string' ? e.ca : e.ca ? JSON.stringify(e.ca) : undefined,
      signatures: e.signatures ?? [],
      closureSize: e.closureSize !== undefined ? Number(e.closureSize) : undefined,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Path info for `paths` (store paths or installables), with `recursive` the whole closure. */
export async function pathInfo(
  nix: Nix,
  paths: readonly string[],
  options: { recursive?: boolean; closureSize?: boolean; store?: string } = {},
): Promise<PathInfo[]> {
  const args = ['path-info', '--json'];
  if (options.recursive) args.push('--recursive');
  if (options.closureSize) args.push('--closure-size');
  if (options.store) args.push('--store', options.store);
  const json = await nix.json(args.concat('--', ...paths), 'nix path-info');
  return normalizePathInfo(json);
}

/** The runtime closure of `paths`, as a map path -> info. */
export async function closure(nix: Nix, paths: readonly string[]): Promise<Map<string, PathInfo>> {
  const infos = await pathInfo(nix, paths, { recursive: true });
  return new Map(infos.map((i) => [i.path, i]));
}
