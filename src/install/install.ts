import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { run } from '../process/run.js';
import { cacheKeys, hashLockFiles } from './cache.js';
import { checkConfInputs, nextConf, renderConf, type ConfOptions } from './config.js';
import { detectExisting, type ExistingNix } from './detect.js';
import { downloadTo, fetchText } from './download.js';
import { exportsFor, type Exports } from './env.js';
import { detectSystem, runnerOsArch, type NixSystem } from './platform.js';
import { ensureOwnedDir, writeFileAsOwner } from './privileged.js';
import { checkVersion, resolveTarball, type ReleaseTable, type TarballSource } from './releases.js';
import { inRoot, layout, type Layout } from './root.js';
import { createProfile, placeStorePaths, registerPaths } from './store.js';
import { readRelease, unpackTarball } from './tarball.js';

/** The restore half of the Actions cache, injected so the core never imports @actions/*. */
export interface CacheRestore {
  workspace: string;
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>;
}

export interface InstallOptions {
  /** `/` on a runner; a temporary directory in tests. */
  root: string;
  system?: NixSystem;
  version?: string;
  installerUrl?: string;
  installerSha256?: string;
  trustUpstreamSha256?: boolean;
  extraConf: string;
  githubToken?: string;
  serverUrl: string;
  home: string;
  user: string;
  /** Where the tarball is downloaded (RUNNER_TEMP). */
  tmpDir: string;
  env: NodeJS.ProcessEnv;
  log: Log;
  table?: ReleaseTable;
  releasesUrl?: string;
  cache?: CacheRestore;
  certFiles?: string[];
}

export interface CacheInfo {
  key: string;
  restoreKeys: string[];
  matchedKey?: string;
  /** True when the exact key was restored. */
  hit: boolean;
  lockFiles: string[];
  paths: string[];
}

export interface InstallResult {
  version: string;
  system: NixSystem;
  /** What the step did: installed from a tarball, restored /nix from the cache, or found Nix already there. */
  action: 'installed' | 'restored' | 'existing';
  existing?: ExistingNix;
  source?: TarballSource;
  download?: { size: number; sha256: string };
  storePaths?: { added: number; present: number };
  conf: { file: string; mode: number; shown: string };
  exports: Exports;
  /** Folder holding nix-store for the post step. */
  nixBinDir: string;
  cache?: CacheInfo;
  seconds: Record<string, number>;
}

export async function installNix(o: InstallOptions): Promise<InstallResult> {
  const t0 = Date.now();
  const seconds: Record<string, number> = {};
  const lap = (name: string, since: number) => (seconds[name] = (Date.now() - since) / 1000);
  if (!isAbsolute(o.root)) throw new UserError(`The install root '${o.root}' is not an absolute path`, { hint: 'Set NIX_ACTIONS_INSTALL_ROOT to an absolute path, or unset it' });
  const system = o.system ?? detectSystem();
  const version = o.version ? checkVersion(o.version) : undefined;
  const lay = layout(o.root);
  const trustedUsers = o.user === 'root' ? ['root'] : ['root', o.user];
  const confBase: Omit<ConfOptions, 'singleUser'> = {
    githubToken: o.githubToken,
    serverUrl: o.serverUrl,
    trustedUsers,
    extraConf: o.extraConf,
  };
  checkConfInputs({ ...confBase, singleUser: true }); // bad input fails before any download

  let existing = await detectExisting(lay, o.env);
  let restored = false;
  if (existing && version && existing.version !== version) {
    throw new UserError(`Nix ${existing.version} is already installed (${existing.where}), but nix-version asks for ${version}`, {
      hint: 'Remove nix-version to use the installed Nix, or run on a runner without Nix',
    });
  }

  let source: TarballSource | undefined;
  let cache: CacheInfo | undefined;
  let download: InstallResult['download'];
  let storePaths: InstallResult['storePaths'];
  let nixBinDir = '';

  if (existing && !existing.ours && o.cache) {
    o.log.warning(`cache: true only caches a Nix this action installed; ${existing.where} (Nix ${existing.version}) is not, so /nix is not cached`);
  }
  const cacheWanted = o.cache && (!existing || existing.ours);

  if (!existing) {
    source = await resolveTarball({
      system,
      version,
      installerUrl: o.installerUrl,
      installerSha256: o.installerSha256,
      trustUpstreamSha256: o.trustUpstreamSha256,
      table: o.table,
      releasesUrl: o.releasesUrl,
      fetchText,
    });
    if (source.trust === 'upstream') {
      o.log.warning(
        `TRUSTING UPSTREAM: Nix ${source.version} is not in the pinned release table, so its SHA-256 was fetched from ${source.url}.sha256 ` +
          '(trust-upstream-sha256: true). The download is only as trustworthy as that server and TLS: pin installer-sha256 for an auditable build.',
      );
    }
    if (cacheWanted) {
      const t = Date.now();
      await ensureOwnedDir(lay.nix, o.log);
      cache = makeCacheInfo(lay, system, source.version ?? `sha256-${source.sha256.slice(0, 16)}`, o.cache!.workspace);
      cache.matchedKey = await o.cache!.restore(cache.paths, cache.key, cache.restoreKeys);
      cache.hit = cache.matchedKey === cache.key;
      lap('cache-restore', t);
      if (cache.matchedKey) {
        existing = await detectExisting(lay, o.env);
        restored = Boolean(existing);
      }
    }
  }

  if (!existing) {
    const s = source!;
    const t = Date.now();
    mkdirSync(o.tmpDir, { recursive: true });
    const file = join(o.tmpDir, `install-nix-${randomBytes(4).toString('hex')}.tar`);
    o.log.info(`Downloading ${s.url}`);
    try {
      const got = await downloadTo(s.url, file);
      lap('download', t);
      if (got.sha256 !== s.sha256) {
        throw new UserError(`SHA-256 mismatch for ${s.url}: expected ${s.sha256} (${s.hashSource}), got ${got.sha256}`, {
          hint: 'Nothing was unpacked or installed. If you use a mirror, check installer-url and installer-sha256; otherwise the download was altered',
        });
      }
      download = got;
      o.log.info(`Verified SHA-256 ${got.sha256} (${s.hashSource})`);
      const t2 = Date.now();
      await ensureOwnedDir(lay.nix, o.log);
      const unpackDir = join(lay.nix, `.install-nix-unpack-${randomBytes(4).toString('hex')}`);
      try {
        await unpackTarball(file, unpackDir);
        lap('unpack', t2);
        const rel = readRelease(unpackDir, { system, version: s.version });
        const t3 = Date.now();
        const placed = await placeStorePaths(rel, lay);
        storePaths = { added: placed.added.length, present: placed.present.length };
        await registerPaths(rel, lay, o.env);
        await createProfile(rel, lay, o.env, o.log);
        lap('register', t3);
        nixBinDir = inRoot(lay.root, `${rel.nixPath}/bin`);
      } finally {
        await run('chmod', ['-R', 'u+w', unpackDir]).catch(() => undefined);
        rmSync(unpackDir, { recursive: true, force: true });
      }
    } finally {
      rmSync(file, { force: true });
    }
    existing = await detectExisting(lay, o.env);
    if (!existing) throw new UserError(`Nix was unpacked but ${lay.defaultProfile}/bin/nix does not run`, { hint: 'Re-run with debug logging and report it' });
  } else {
    nixBinDir = existing.ours ? dirname(existing.bin) : await whichDir('nix', o.env);
    if (cacheWanted && !cache) cache = makeCacheInfo(lay, system, existing.version, o.cache!.workspace);
  }
  const action = download ? 'installed' : restored ? 'restored' : 'existing';

  const singleUser = action === 'installed' || existing.ours;
  const block = renderConf({ ...confBase, singleUser });
  const written = nextConf(lay.confFile, block);
  await writeFileAsOwner(lay.confFile, written.content, written.mode, o.tmpDir, o.log);
  const shown = o.githubToken ? block.split(o.githubToken).join('***') : block;

  const exports = exportsFor(lay, { home: o.home, env: o.env, certFiles: o.certFiles });
  seconds.total = (Date.now() - t0) / 1000;
  return {
    version: existing.version,
    system,
    action,
    existing: action === 'installed' ? undefined : existing,
    source,
    download,
    storePaths,
    conf: { file: lay.confFile, mode: written.mode, shown },
    exports,
    nixBinDir,
    cache,
    seconds,
  };
}

function makeCacheInfo(lay: Layout, system: NixSystem, nixVersion: string, workspace: string): CacheInfo {
  const { os, arch } = runnerOsArch(system);
  const locks = hashLockFiles(workspace);
  const { key, restoreKeys } = cacheKeys({ os, arch, nixVersion, lockHash: locks.hash });
  return { key, restoreKeys, hit: false, lockFiles: locks.files, paths: [lay.nix] };
}

async function whichDir(bin: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run('sh', ['-c', 'command -v "$1"', 'sh', bin], { env });
  return r.code === 0 ? dirname(r.stdout.trim()) : '';
}

