import type { Nix } from '../nix/nix.js';
import { pathInfo, type PathInfo } from '../nix/pathinfo.js';
import { parseStorePath } from '../nix/storepath.js';
import type { DetectedImage } from './detect.js';
import { imageStorePaths } from './layers.js';

/**
 * The content closure of an image: the store paths a container started from it
 * sees, with what the local store knows about each.
 *
 * Why from the layers: the other sources Nix offers are wrong for an image.
 * - The references of a gzip/zstd tarball are empty: Nix scans outputs for store
 *   hashes, and compressed bytes hide them.
 * - The references of a stream script are its interpreter and its config, and the
 *   inputs of the image's derivation include the build tools (tar, pigz, jq,
 *   python); none of those is in the image.
 * The layers are what a registry serves and what a scanner sees, so the image is
 * read (streamed, never unpacked). For nix2container the JSON names each layer's
 * paths. narHash/narSize then come from `nix path-info` for the paths that are in
 * the local store (a build made them valid); a path the store lacks is reported
 * in `missing` rather than guessed.
 */
export interface ClosureEntry {
  path: string;
  name: string;
  version: string;
  output: string;
  narHash?: string;
  narSize?: number;
  references?: string[];
}

export interface ImageClosure {
  entries: ClosureEntry[];
  layers: number;
  /** Sum of narSize over the entries the store knows. */
  closureSize: number;
  /** Paths in the image that the local store does not have (no size or hash). */
  missing: string[];
  /** References of image paths that are not themselves in the image (a broken image). */
  dangling: string[];
}

async function infosFor(nix: Nix, paths: string[]): Promise<Map<string, PathInfo>> {
  const out = new Map<string, PathInfo>();
  if (paths.length === 0) return out;
  try {
    for (const i of await pathInfo(nix, paths)) out.set(i.path, i);
    return out;
  } catch {
    // Some path is not valid here (e.g. the image came from a cache without its
    // contents): ask one by one and leave the unknown ones out.
    for (const p of paths) {
      try {
        for (const i of await pathInfo(nix, [p])) out.set(i.path, i);
      } catch {
        /* reported as missing */
      }
    }
    return out;
  }
}

export async function imageClosure(nix: Nix, image: DetectedImage): Promise<ImageClosure> {
  const { storePaths, layers } = await imageStorePaths(image);
  const infos = await infosFor(nix, storePaths);
  const inImage = new Set(storePaths);
  const dangling = new Set<string>();
  const entries = storePaths.map((path): ClosureEntry => {
    const parts = parseStorePath(path);
    const info = infos.get(path);
    for (const r of info?.references ?? []) if (!inImage.has(r)) dangling.add(r);
    return {
      path,
      name: parts.name,
      version: parts.version,
      output: parts.output,
      narHash: info?.narHash,
      narSize: info?.narSize,
      references: info?.references,
    };
  });
  return {
    entries,
    layers,
    closureSize: entries.reduce((n, e) => n + (e.narSize ?? 0), 0),
    missing: storePaths.filter((p) => !infos.has(p)),
    dangling: [...dangling].sort(),
  };
}
