import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { Nix, NixError } from '../nix/nix.js';
import { pathInfo } from '../nix/pathinfo.js';
import { parseNixHash, toHex } from '../nix/hash.js';
import { run } from '../process/run.js';
import { buildFailure } from '../build/build.js';
import { withCommandsStopped } from '../build/untrusted.js';
import type { ArchiveManifest } from './manifest.js';
import { sri } from './create.js';

/**
 * Proves an archive is enough to rebuild: in a NEW, EMPTY store (a chroot store,
 * `local?root=<tmp>`, so nothing can come from the machine's store), with no
 * substituters, proxies pointing at a closed port and `--offline`, it
 *   1. checks every path the manifest lists is in the cache (naming the missing),
 *   2. copies the archive into the fresh store (Nix checks each narHash),
 *   3. evaluates the installable from the ARCHIVED flake source: it must give the
 *      same derivation,
 *   4. realises that derivation: every non-fixed-output step is rebuilt from
 *      source in the sandbox (no network); fixed-output sources come from the
 *      archive with their hashes checked,
 *   5. compares the rebuilt outputs with the manifest (path, and narHash to say
 *      whether the build is bit-for-bit reproducible).
 * A chroot store always builds in the sandbox; on Linux that needs user namespaces.
 */
export interface VerifyOutput {
  name: string;
  path: string;
  narHash: string;
  expectedNarHash: string;
  identical: boolean;
}

export interface VerifyResult {
  drvPath: string;
  evaluatedDrvPath?: string;
  outputs: VerifyOutput[];
  fixedOutputs: number;
  pathsRestored: number;
  seconds: number;
}

export const OFFLINE_PROXY = 'http://127.0.0.1:9';

export async function readManifest(dir: string): Promise<ArchiveManifest> {
  const file = join(dir, 'manifest.json');
  let m: ArchiveManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UserError(`The archive '${dir}' has no readable manifest.json (${(e as Error).message.split('\n')[0]})`, {
      hint: 'Point verify at a directory written by the archive action',
    });
  }
  if (m?.version !== 1 || !Array.isArray(m.paths) || typeof m.drvPath !== 'string') {
    throw new UserError(`${file} is not an archive manifest (version 1 with paths and drvPath)`);
  }
  return m;
}

/** Paths the manifest lists that the cache lacks (no .narinfo, or its NAR file is gone). */
export async function missingFromCache(dir: string, m: ArchiveManifest): Promise<string[]> {
  const cache = join(dir, m.cache ?? 'cache');
  const missing: string[] = [];
  const listed = new Set(m.paths.map((p) => p.path));
  const needed = [...m.paths.map((p) => p.path), ...(m.scope === 'build' ? (m.fixedOutputs ?? []).map((f) => f.path) : [])];
  for (const f of m.fixedOutputs ?? []) if (m.scope === 'build' && !listed.has(f.path)) missing.push(f.path);
  for (const path of m.paths.map((p) => p.path)) {
    const hash = basename(path).slice(0, 32);
    const narinfo = await readFile(join(cache, `${hash}.narinfo`), 'utf8').catch(() => undefined);
    const url = narinfo && /^URL: (.+)$/m.exec(narinfo)?.[1];
    if (!narinfo || !url || !(await stat(join(cache, url)).catch(() => undefined))) missing.push(path);
  }
  return [...new Set(missing)].filter((p) => needed.includes(p)).sort();
}

async function removeStore(root: string): Promise<void> {
  // Store paths are read-only; make them writable to delete the whole tree.
  const unlock = async (p: string): Promise<void> => {
    const st = await stat(p).catch(() => undefined);
    if (!st?.isDirectory()) return;
    await chmod(p, 0o755).catch(() => {});
    for (const e of await readdir(p)) await unlock(join(p, e));
  };
  await unlock(root);
  await rm(root, { recursive: true, force: true });
}

export async function verifyArchive(
  nix: Nix,
  log: Log,
  dir: string,
  options: { tmp?: string; keepStore?: boolean } = {},
): Promise<VerifyResult> {
  const started = Date.now();
  const m = await readManifest(dir);
  const missing = await missingFromCache(dir, m);
  if (missing.length) {
    throw new UserError(
      `Verification failed: the archive is missing ${missing.length} store path(s) needed to rebuild ${m.installable}: ${missing.join(', ')}`,
      { hint: 'Re-run the archive action; do not prune the archive cache' },
    );
  }
  const root = await mkdtemp(join(options.tmp ?? tmpdir(), 'nix-archive-verify-'));
  const store = `local?root=${root}`;
  const from = `file://${join(dir, m.cache ?? 'cache')}`;
  const env: NodeJS.ProcessEnv = { ...(nix.env ?? process.env) };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'ftp_proxy']) env[k] = OFFLINE_PROXY;
  delete env.no_proxy;
  delete env.NO_PROXY;
  const offline = await Nix.detect({ bin: nix.bin, env, cwd: nix.cwd, log });
  const noNet = ['--option', 'substituters', '', '--option', 'builders', ''];
  const fail = (what: string, e: unknown): never => {
    if (e instanceof NixError) {
      const f = buildFailure(m.installable, e);
      throw new UserError(`Verification failed: ${what}: ${f.message.replace(/^nix build .*? failed: /, '')}`, { detail: f.detail });
    }
    throw e;
  };
  try {
    const drvs = m.paths.filter((p) => p.path.endsWith('.drv')).map((p) => p.path);
    const others = m.paths.filter((p) => !p.path.endsWith('.drv')).map((p) => p.path);
    await log.group('Restore the archive into an empty store', () =>
      withCommandsStopped(log, async () => {
        const copy = (extra: string[], paths: string[]) =>
          paths.length
            ? offline.run(['copy', '--no-check-sigs', ...extra, '--from', from, '--to', store, '--', ...paths], 'nix copy --from the archive', {
                onStderrLine: (l) => log.info(l),
              })
            : Promise.resolve();
        await copy(['--derivation'], drvs).catch((e) => fail('restoring derivations from the archive', e));
        await copy([], others).catch((e) => fail('restoring sources from the archive', e));
      }),
    );

    // Restoring checked each NAR against its .narinfo, but both come from the archive.
    // A fixed-output source must also match the hash its derivation asks for.
    const fods = m.scope === 'build' ? (m.fixedOutputs ?? []) : [];
    for (const f of fods) {
      const recursive = f.hashAlgo.startsWith('r:');
      const algo = f.hashAlgo.replace(/^r:/, '');
      let want: string;
      try {
        want = toHex(parseNixHash(f.hash.includes('-') || f.hash.includes(':') ? f.hash : `${algo}:${f.hash}`, algo));
      } catch {
        throw new UserError(`Verification failed: cannot check ${f.path}: unsupported hash '${f.hashAlgo}:${f.hash}'`);
      }
      const got = (
        await offline
          .run(['hash', recursive ? 'path' : 'file', '--base16', '--type', algo, '--', join(root, f.path)], 'nix hash')
          .catch((e) => fail(`hashing ${f.path}`, e))
      ).stdout.trim();
      if (got !== want) {
        throw new UserError(
          `Verification failed: the archived source ${f.path} has ${algo} ${got}, but ${f.drvPath} expects ${want}: the archive was altered`,
        );
      }
    }

    let evaluatedDrvPath: string | undefined;
    if (m.scope === 'build') {
      const dirParam = /[?&]dir=([^&#]+)/.exec(m.flake.url ?? '')?.[1];
      const ref = `path:${root}${m.flake.path}${dirParam ? `?dir=${dirParam}` : ''}#${m.attr}`;
      const evaluated = await offline
        .run(['path-info', '--derivation', '--offline', '--store', store, ...noNet, '--', ref], 'evaluating the archived flake')
        .catch((e) => fail('evaluating the archived flake source', e));
      evaluatedDrvPath = evaluated.stdout.trim().split('\n').pop();
      if (evaluatedDrvPath !== m.drvPath) {
        throw new UserError(
          `Verification failed: the archived flake source evaluates to ${evaluatedDrvPath}, not ${m.drvPath}: the archive does not hold the sources that were built`,
        );
      }
      const nixStore = nix.bin.includes('/') ? join(dirname(nix.bin), 'nix-store') : 'nix-store';
      await log.group(`Rebuild ${m.drvPath} from the archive`, () =>
        withCommandsStopped(log, async () => {
          const r = await run(nixStore, ['--store', store, ...noNet, '--realise', m.drvPath], {
            env,
            onStderrLine: (l) => log.info(l),
          });
          if (r.code !== 0) fail(`rebuilding ${m.drvPath} from the archive`, new NixError('nix-store --realise', r));
        }),
      );
    }

    const expected = Object.entries(m.outputs);
    const rebuilt = await pathInfo(
      offline,
      expected.map(([, o]) => o.path),
      { store },
    ).catch((e) => fail('the rebuilt outputs are not in the fresh store', e));
    const outputs: VerifyOutput[] = expected.map(([name, o]) => {
      const info = rebuilt.find((i) => i.path === o.path);
      if (!info) throw new UserError(`Verification failed: output ${name} (${o.path}) was not produced from the archive`);
      const narHash = sri(info.narHash);
      return { name, path: o.path, narHash, expectedNarHash: o.narHash, identical: narHash === o.narHash };
    });
    for (const o of outputs.filter((x) => !x.identical)) {
      log.warning(
        `Rebuilt ${o.path} from the archive, but its content differs from the archived build (narHash ${o.narHash}, was ${o.expectedNarHash}): the build is not bit-for-bit reproducible`,
      );
    }
    return {
      drvPath: m.drvPath,
      evaluatedDrvPath,
      outputs,
      fixedOutputs: m.scope === 'build' ? (m.fixedOutputs ?? []).length : 0,
      pathsRestored: m.paths.length,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (!options.keepStore) await removeStore(root);
    else log.info(`fresh store kept at ${root}`);
  }
}

