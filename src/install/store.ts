import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { run, tail } from '../process/run.js';
import { inRoot, type Layout } from './root.js';
import type { UnpackedRelease } from './tarball.js';

/** `--store <root>` for a temporary root (a chroot store: store paths stay /nix/store/...). */
export function storeArgs(root: string): string[] {
  return root === '/' ? [] : ['--store', root];
}

/**
 * Env for the installer's own Nix commands: a single-user install has no build users,
 * and the only thing built is the profile (the builtin buildenv, which makes symlinks),
 * so no sandbox is needed: runners that restrict user namespaces cannot break it.
 */
export function installEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const extra = 'build-users-group =\nsandbox = false';
  return { ...env, NIX_CONFIG: env.NIX_CONFIG ? `${env.NIX_CONFIG}\n${extra}` : extra };
}

/**
 * Moves the tarball's store paths into the store (a rename: the unpack folder is on the
 * same file system), skipping paths already there, then makes them read-only as the
 * official installer does.
 */
export async function placeStorePaths(rel: UnpackedRelease, lay: Layout): Promise<{ added: string[]; present: string[] }> {
  mkdirSync(lay.store, { recursive: true });
  const from = join(rel.dir, 'store');
  chmodSync(from, 0o755); // renaming out of it needs write permission on it
  const added: string[] = [];
  const present: string[] = [];
  for (const entry of rel.storeEntries) {
    const dest = join(lay.store, entry);
    if (existsSync(dest)) {
      present.push(entry);
      continue;
    }
    const src = join(from, entry);
    // Moving a directory to another parent rewrites its `..`, which needs write
    // permission on it; store paths arrive read-only (they are made so again below).
    const st = lstatSync(src);
    if (st.isDirectory()) chmodSync(src, st.mode | 0o200);
    try {
      renameSync(src, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      cpSync(src, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
    added.push(dest);
  }
  for (let i = 0; i < added.length; i += 200) {
    const r = await run('chmod', ['-R', 'a-w', '--', ...added.slice(i, i + 200)]);
    if (r.code !== 0) throw new UserError(`Could not make the store read-only: ${tail(r.stderr, 3)}`);
  }
  return { added, present };
}

/** Registers the tarball's paths with the tarball's own nix-store (`--load-db < .reginfo`). */
export async function registerPaths(rel: UnpackedRelease, lay: Layout, env: NodeJS.ProcessEnv): Promise<void> {
  const nixStore = inRoot(lay.root, `${rel.nixPath}/bin/nix-store`);
  const r = await run(nixStore, [...storeArgs(lay.root), '--load-db'], { input: readFileSync(rel.reginfo), env: installEnv(env) });
  if (r.code !== 0) {
    throw new UserError(`Registering the Nix store paths failed (nix-store --load-db, exit ${r.code}): ${tail(r.stderr, 1)}`, {
      detail: tail(r.stderr, 20),
    });
  }
}

/** Creates the default profile with Nix and the CA bundle, as the official installer does. */
export async function createProfile(rel: UnpackedRelease, lay: Layout, env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const nixEnv = inRoot(lay.root, `${rel.nixPath}/bin/nix-env`);
  const paths = [rel.nixPath, ...(rel.cacertPath ? [rel.cacertPath] : [])];
  const r = await run(nixEnv, [...storeArgs(lay.root), '-p', lay.defaultProfile, '-i', ...paths], { env: installEnv(env) });
  if (r.code !== 0) {
    throw new UserError(`Creating the Nix profile failed (nix-env -i, exit ${r.code}): ${tail(r.stderr, 1)}`, { detail: tail(r.stderr, 20) });
  }
  log.debug(tail(r.stderr, 5));
}
