import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import {
  build,
  isStorePath,
  normalizeDerivations,
  pathInfo,
  NixError,
  type Derivation,
  type Nix,
  type PathInfo,
} from '../nix/index.js';
import { detectImage, imageClosure } from '../image/index.js';
import { flattenInputs, parseLock } from '../flake/lock.js';
import type { FlakeInputInfo } from './model.js';

/**
 * Everything the SBOM needs from Nix, gathered with as few calls as possible:
 * one `path-info --recursive` for the closure, `show-derivation` on the derivers
 * (in chunks, so the argument list and the JSON stay bounded), `eval` for `meta`
 * and `flake metadata` for the locked inputs.
 */
export interface NixFacts {
  /** The described output paths; the first is the root component. */
  rootPaths: string[];
  rootDrv?: string;
  /** Runtime closure: path -> info. For an image: the image itself and the store paths in its layers. */
  closure: Map<string, PathInfo>;
  /** Paths in the image that this store does not have (listed without hash or size). */
  missing: string[];
  /** The image's format, when an image is described. */
  imageFormat?: string;
  /** Derivations known: the closure's derivers, their direct inputs, and (buildtime) the whole graph. */
  derivations: Map<string, Derivation>;
  /** Buildtime scope: every build input path -> its info when it is valid in the store. */
  buildPaths: Map<string, PathInfo | undefined>;
  /** The installable's `meta`, when it is a flake attribute that has one. */
  meta?: Record<string, unknown>;
  flake?: { ref: string; lastModified?: number; inputs: FlakeInputInfo[] };
}

export interface CollectOptions {
  nix: Nix;
  log: Log;
  scope: 'runtime' | 'buildtime';
  /** A flake installable (e.g. `.#devcontainer`): built (a no-op when already built) to learn its outputs. */
  installable?: string;
  /** A store path to describe (an image): its contents are read from its layers (src/image). */
  image?: string;
  /** The image's derivation when known (build exports it). */
  drvPath?: string;
  /** With `image`: the flake installable it was built from, read only for `meta` and locked inputs. */
  metadataFrom?: string;
}

/** Chunk size for `show-derivation` argument lists (keeps argv well under ARG_MAX). */
const CHUNK = 500;
const BIG = 1024 * 1024 * 1024;

export async function collect(options: CollectOptions): Promise<NixFacts> {
  const { nix, log } = options;
  let rootPaths: string[];
  let rootDrv: string | undefined = options.drvPath;
  if (options.image) {
    if (!isStorePath(options.image)) {
      throw new UserError(`Input 'image': '${clip(options.image)}' is not a Nix store path`, {
        hint: 'Pass the image path the build step printed (its output image), or leave it empty to use what build exported',
      });
    }
    if (!existsSync(options.image)) {
      throw new UserError(`Input 'image': ${options.image} is not in the Nix store`, {
        hint: 'Run the build step first in this job, or pass the installable instead',
      });
    }
    rootPaths = [options.image];
  } else if (options.installable) {
    const built = await log.group(`Resolving ${options.installable}`, () =>
      build(nix, [options.installable!], { onLog: (l) => log.debug(l) }),
    );
    if (built.length === 0) throw new UserError(`'${options.installable}' has no outputs to describe`);
    rootDrv = built[0].drvPath;
    const outs = built[0].outputs;
    const names = Object.keys(outs).sort((a, b) => (a === 'out' ? -1 : b === 'out' ? 1 : a < b ? -1 : 1));
    rootPaths = names.map((n) => outs[n]);
  } else {
    throw new UserError('Nothing to describe: neither installable nor image was given and the build step exported none', {
      hint: "Run vig-os/nix-actions/build@v1 earlier in the job, or set 'installable' (e.g. .#devcontainer) or 'image'",
    });
  }

  let closure: Map<string, PathInfo>;
  let missing: string[] = [];
  let imageFormat: string | undefined;
  if (options.image) {
    ({ closure, missing, format: imageFormat } = await imageContents(nix, options.image, log));
  } else {
    const infos = await pathInfo(nix, rootPaths, { recursive: true });
    closure = new Map(infos.map((i) => [i.path, i]));
  }
  if (rootDrv === undefined) rootDrv = closure.get(rootPaths[0])?.deriver;

  // Derivers of every closure path, then their direct inputs (to find fixed-output sources).
  const derivations = new Map<string, Derivation>();
  const derivers = new Set<string>();
  for (const i of closure.values()) if (i.deriver) derivers.add(i.deriver);
  if (rootDrv) derivers.add(rootDrv);
  await showInChunks(nix, [...derivers], derivations);
  const inputs = new Set<string>();
  for (const d of derivations.values()) for (const p of Object.keys(d.inputDrvs)) if (!derivations.has(p)) inputs.add(p);
  await showInChunks(nix, [...inputs], derivations);

  const buildPaths = new Map<string, PathInfo | undefined>();
  if (options.scope === 'buildtime') {
    if (!rootDrv || !existsSync(rootDrv)) {
      throw new UserError(`scope: buildtime needs the derivation of ${rootPaths[0]}, which is not in the store`, {
        hint: 'Describe the installable (the build step exports it), or use scope: runtime',
      });
    }
    const graph = normalizeDerivations(
      await nix.json([...nix.derivationShowCommand(), '--recursive', '--', rootDrv], 'nix show-derivation --recursive', { maxBuffer: BIG }),
    );
    for (const [k, v] of graph) derivations.set(k, v);
    const wanted = new Set<string>();
    for (const d of graph.values()) {
      for (const [drv, outs] of Object.entries(d.inputDrvs)) {
        const dep = graph.get(drv);
        for (const o of outs) if (dep?.outputs[o]?.path) wanted.add(dep.outputs[o].path!);
      }
      for (const s of d.inputSrcs) wanted.add(s);
    }
    const missing = [...wanted].filter((p) => !closure.has(p));
    const valid = missing.filter((p) => existsSync(p));
    for (const p of missing) buildPaths.set(p, undefined);
    for (let i = 0; i < valid.length; i += CHUNK) {
      for (const info of await pathInfo(nix, valid.slice(i, i + CHUNK))) buildPaths.set(info.path, info);
    }
  }

  const source = options.installable ?? options.metadataFrom;
  const flakeRef = source ? flakeRefOf(source) : undefined;
  const meta = source?.includes('#') ? await evalMeta(nix, source, log) : undefined;
  const flake = flakeRef !== undefined ? await flakeMetadata(nix, flakeRef, log) : undefined;
  return { rootPaths, rootDrv, closure, missing, imageFormat, derivations, buildPaths, meta, flake };
}

/**
 * What ships in an image is what its layers hold (src/image reads them): a
 * compressed tarball keeps no references, and a stream script references its
 * interpreter, which is not in the image. The image path itself is the root, and
 * it "depends on" the top-level paths of its contents.
 */
async function imageContents(nix: Nix, image: string, log: Log): Promise<{ closure: Map<string, PathInfo>; missing: string[]; format: string }> {
  const detected = await detectImage(image);
  const content = await log.group(`Reading the layers of ${image} (${detected.format})`, () => imageClosure(nix, detected));
  const closure = new Map<string, PathInfo>();
  const valid = content.entries.filter((e) => e.narHash !== undefined).map((e) => e.path);
  for (let i = 0; i < valid.length; i += CHUNK) {
    for (const info of await pathInfo(nix, valid.slice(i, i + CHUNK))) closure.set(info.path, info);
  }
  if (content.dangling.length) {
    log.warning(`The image's paths reference ${content.dangling.length} store path(s) the image does not contain (e.g. ${content.dangling[0]}): the image is incomplete`);
  }
  const inImage = content.entries.map((e) => e.path);
  const referenced = new Set<string>();
  for (const info of closure.values()) for (const r of info.references) if (r !== info.path) referenced.add(r);
  const [self] = await pathInfo(nix, [image]);
  closure.set(image, { ...self, references: inImage.filter((p) => !referenced.has(p)).sort() });
  return { closure, missing: content.missing, format: detected.format };
}

async function showInChunks(nix: Nix, drvs: string[], into: Map<string, Derivation>): Promise<void> {
  // A path substituted from a cache may name a deriver this store never had: skip those.
  const present = drvs.filter((d) => existsSync(d)).sort();
  for (let i = 0; i < present.length; i += CHUNK) {
    const json = await nix.json([...nix.derivationShowCommand(), '--', ...present.slice(i, i + CHUNK)], 'nix show-derivation', {
      maxBuffer: BIG,
    });
    for (const [k, v] of normalizeDerivations(json)) into.set(k, v);
  }
}

/** `.#devcontainer` -> `.`; `github:o/r#x` -> `github:o/r`; a store path -> undefined. */
export function flakeRefOf(installable: string): string | undefined {
  const hash = installable.indexOf('#');
  const ref = hash < 0 ? installable : installable.slice(0, hash);
  if (ref.startsWith('/nix/store/')) return undefined;
  return ref === '' ? '.' : ref;
}

async function evalMeta(nix: Nix, installable: string, log: Log): Promise<Record<string, unknown> | undefined> {
  try {
    const meta = await nix.json<unknown>(['eval', '--json', '--', `${installable}.meta`], 'nix eval meta');
    return meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
  } catch (e) {
    if (e instanceof NixError && /attribute 'meta' missing|does not provide attribute/.test(e.result.stderr)) {
      log.info(`${installable} has no meta attribute: licenses, homepage and description stay unknown`);
      return undefined;
    }
    if (e instanceof NixError) {
      log.warning(`Could not evaluate ${installable}.meta (${e.oneLine}): licenses and homepage stay unknown`);
      return undefined;
    }
    throw e;
  }
}

async function flakeMetadata(nix: Nix, ref: string, log: Log): Promise<NixFacts['flake']> {
  let json: any;
  try {
    json = await nix.json<any>(['flake', 'metadata', '--json', '--no-write-lock-file', '--', ref], 'nix flake metadata');
  } catch (e) {
    if (e instanceof NixError) {
      log.warning(`Could not read the locked inputs of ${ref} (${e.oneLine}): the SBOM lists no flake inputs`);
      return undefined;
    }
    throw e;
  }
  return { ref, lastModified: typeof json.lastModified === 'number' ? json.lastModified : undefined, inputs: lockedInputs(json.locks, ref) };
}

/**
 * The locked inputs of a flake, from `nix flake metadata --json`'s `locks` (the
 * flake.lock object). Read with src/flake/lock.ts like every other reader of a lock,
 * so follows, cycles and malformed locks behave the same everywhere: a lock that
 * does not hold together is a LockError naming the node, not a silently shorter list.
 * Each locked node is listed once, under the first input path that reaches it in
 * Nix's flattened order (`nixpkgs`, `utils/systems`); a follows is not a node of its
 * own (its target is listed under its own path). Nodes that carry no pin (the root,
 * an unlocked input) are left out.
 */
export function lockedInputs(locks: unknown, ref = 'the flake'): FlakeInputInfo[] {
  if (locks === undefined || locks === null) return [];
  // Rendered as Nix writes flake.lock (two-space indent), so an error's line points near the node.
  const lock = parseLock(JSON.stringify(locks, null, 2), `flake.lock of ${ref}`);
  const seen = new Set<string>();
  const out: FlakeInputInfo[] = [];
  for (const input of flattenInputs(lock)) {
    if (input.follows || seen.has(input.node.key)) continue;
    seen.add(input.node.key);
    const locked = input.node.locked;
    if (!locked) continue;
    out.push({
      inputPath: input.path.join('/'),
      type: String(locked.type),
      owner: str(locked.owner),
      repo: str(locked.repo),
      url: str(locked.url) ?? (locked.path !== undefined ? `path:${locked.path}` : undefined),
      ref: str(locked.ref),
      rev: str(locked.rev),
      narHash: str(locked.narHash),
      lastModified: typeof locked.lastModified === 'number' ? locked.lastModified : undefined,
    });
  }
  return out.sort((a, b) => (a.inputPath < b.inputPath ? -1 : 1));
}

const str = (v: string | number | boolean | undefined): string | undefined => (v === undefined ? undefined : String(v));

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
