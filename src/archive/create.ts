import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import type { Nix } from '../nix/nix.js';
import { build } from '../nix/build.js';
import { isFixedOutput, showDerivations } from '../nix/derivation.js';
import { parseNixHash, toSri } from '../nix/hash.js';
import { normalizePathInfo, pathInfo, type PathInfo } from '../nix/pathinfo.js';
import { buildFailure, checkInstallable } from '../build/build.js';
import { NixError } from '../nix/nix.js';
import { quoteLog, withCommandsStopped } from '../build/untrusted.js';
import { flakeSources, splitInstallable } from './flake.js';
import { readmeText, type ArchiveManifest, type ArchivedPath, type FixedOutput } from './manifest.js';

export type ArchiveScope = 'build' | 'runtime';

export interface ArchiveRequest {
  installable: string;
  scope: ArchiveScope;
  /** Directory to write the archive to (created; must be new or empty). */
  dir: string;
  /** Base for a relative `dir`. */
  cwd?: string;
}

export interface ArchiveResult {
  dir: string;
  manifestPath: string;
  manifest: ArchiveManifest;
  /** Bytes on disk. */
  size: number;
  seconds: { sources: number; build: number; copy: number };
}

export const CACHE_DIR = 'cache';

/** `file://` URL of the archive's binary cache (zstd: far faster than the xz default). */
export const cacheUrl = (dir: string): string => `file://${join(dir, CACHE_DIR)}?compression=zstd`;

export async function checkArchiveDir(path: string, cwd = process.cwd()): Promise<string> {
  if (!path.trim()) throw new UserError(`Input 'path' is empty`, { hint: 'Name a new directory, e.g. nix-archive' });
  if (/[\u0000-\u001f\u007f?#%]/.test(path)) {
    throw new UserError(`Input 'path': '${path.replace(/[\u0000-\u001f]/g, '?')}' contains a control character, '?', '#' or '%'`, {
      hint: 'The archive becomes a file:// binary cache URL: use a plain directory name',
    });
  }
  const dir = isAbsolute(path) ? resolve(path) : resolve(cwd, path);
  const entries = await readdir(dir).catch(() => undefined);
  if (entries && entries.length) {
    throw new UserError(`Input 'path': '${path}' already exists and is not empty`, { hint: 'Archive into a new directory' });
  }
  return dir;
}

export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await stat(p)).size;
  }
  return total;
}

export const sri = (h: string): string => {
  try {
    return toSri(parseNixHash(h));
  } catch {
    return h;
  }
};

const archived = (i: PathInfo): ArchivedPath => ({
  path: i.path,
  narHash: sri(i.narHash),
  narSize: i.narSize,
  references: i.references,
  ...(i.deriver ? { deriver: i.deriver } : {}),
  ...(i.ca ? { ca: i.ca } : {}),
});

/**
 * Writes everything needed to rebuild `installable` offline into `dir`: the flake
 * sources (`nix flake archive`), the closure chosen by `scope` in a file binary
 * cache, `manifest.json` and a README. `build` scope: the derivation closure (every
 * .drv and its sources) plus the outputs of fixed-output derivations (fetched
 * sources, the only inputs that need the network); `runtime` scope: the outputs'
 * runtime closure.
 */
export async function createArchive(nix: Nix, log: Log, request: ArchiveRequest): Promise<ArchiveResult> {
  try {
    return await archive(nix, log, request);
  } catch (e) {
    // Nix's output is untrusted text: its tail is quoted before the runner prints it.
    if (e instanceof NixError) throw new UserError(e.message, { detail: quoteLog(e.detail ?? '') });
    throw e;
  }
}

async function archive(nix: Nix, log: Log, request: ArchiveRequest): Promise<ArchiveResult> {
  const installable = checkInstallable(request.installable);
  const { flakeRef, attr } = splitInstallable(installable);
  const dir = await checkArchiveDir(request.dir, request.cwd);

  const t0 = Date.now();
  const sources = await flakeSources(nix, flakeRef);
  const t1 = Date.now();
  const built = await log
    .group(`nix build ${installable}`, () => withCommandsStopped(log, () => build(nix, [installable], { onLog: (l) => log.info(l) })))
    .catch((e) => {
      throw e instanceof NixError ? buildFailure(installable, e) : e;
    });
  const { drvPath, outputs } = built[0];
  const t2 = Date.now();

  const drvs = await showDerivations(nix, [drvPath], { recursive: true });
  const fixedOutputs: FixedOutput[] = [];
  for (const d of drvs.values()) {
    if (!isFixedOutput(d)) continue;
    const o = d.outputs.out;
    fixedOutputs.push({ drvPath: d.drvPath, path: o.path ?? '', hashAlgo: o.hashAlgo ?? '', hash: o.hash ?? '' });
  }
  fixedOutputs.sort((a, b) => (a.path < b.path ? -1 : 1));

  const drvRoots = request.scope === 'build' ? [drvPath] : [];
  const pathRoots = [
    ...sources.storePaths,
    ...(request.scope === 'build' ? fixedOutputs.map((f) => f.path) : Object.values(outputs)),
  ];
  if (request.scope === 'build' && fixedOutputs.length) {
    // The installable may have been substituted, leaving its sources unfetched here.
    const spell = (drv: string) => (nix.atLeast('2.13.0') ? `${drv}^out` : drv);
    await nix.run(['build', '--no-link', '--', ...fixedOutputs.map((f) => spell(f.drvPath))], 'fetching fixed-output sources');
  }

  await mkdir(dir, { recursive: true });
  const url = cacheUrl(dir);
  await log.group(`nix copy --to ${url}`, async () => {
    await withCommandsStopped(log, async () => {
      if (drvRoots.length) await nix.run(['copy', '--derivation', '--to', url, '--', ...drvRoots], 'nix copy (derivations)', { onStderrLine: (l) => log.info(l) });
      await nix.run(['copy', '--to', url, '--', ...pathRoots], 'nix copy (sources and outputs)', { onStderrLine: (l) => log.info(l) });
    });
  });
  const t3 = Date.now();

  // The cache holds the closures of the roots: list them with their hashes.
  // (`--derivation`: a .drv given to path-info otherwise means its outputs)
  const infos = new Map<string, PathInfo>();
  if (drvRoots.length) {
    const json = await nix.json(['path-info', '--json', '--recursive', '--derivation', '--', ...drvRoots], 'nix path-info');
    for (const i of normalizePathInfo(json)) infos.set(i.path, i);
  }
  for (const i of await pathInfo(nix, pathRoots, { recursive: true })) infos.set(i.path, i);
  const outInfos = await pathInfo(nix, Object.values(outputs));
  const paths = [...infos.values()].map(archived).sort((a, b) => (a.path < b.path ? -1 : 1));
  const { inputs, storePaths: _sp, ...flake } = sources;
  const manifest: ArchiveManifest = {
    version: 1,
    installable,
    attr,
    scope: request.scope,
    nixVersion: nix.version,
    system: drvs.get(drvPath)?.system,
    createdAt: new Date().toISOString(),
    cache: CACHE_DIR,
    flake,
    inputs,
    drvPath,
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([name, path]) => {
        const i = outInfos.find((x) => x.path === path);
        return [name, { path, narHash: i ? sri(i.narHash) : '', narSize: i?.narSize ?? 0 }];
      }),
    ),
    fixedOutputs,
    paths,
    narSize: paths.reduce((n, p) => n + p.narSize, 0),
  };
  const manifestPath = join(dir, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(join(dir, 'README.md'), readmeText(manifest));
  return {
    dir,
    manifestPath,
    manifest,
    size: await dirSize(dir),
    seconds: { sources: (t1 - t0) / 1000, build: (t2 - t1) / 1000, copy: (t3 - t2) / 1000 },
  };
}
