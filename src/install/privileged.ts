import { accessSync, chmodSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { run, tail } from '../process/run.js';

/**
 * GitHub's runners run as a user with passwordless sudo and no /nix; containers run as
 * root. We make a directory ours (as the official single-user installer does for /nix)
 * with `sudo -n install -d`, only when we cannot do it ourselves.
 */
export async function ensureOwnedDir(dir: string, log: Log): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
  }
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid === 0) throw new UserError(`Cannot create or write ${dir} even as root (read-only file system?)`);
  log.info(`Creating ${dir} owned by uid ${uid} with sudo`);
  const args = existsSync(dir) && statSync(dir).isDirectory() ? ['-n', 'chown', `${uid}:${gid}`, dir] : ['-n', 'install', '-d', '-m', '0755', '-o', String(uid), '-g', String(gid), dir];
  let r;
  try {
    r = await run('sudo', args);
  } catch {
    throw new UserError(`${dir} is not writable and sudo is not available`, {
      hint: `Create ${dir} owned by this user before the step, or run the job as root`,
    });
  }
  if (r.code !== 0) {
    // macOS: / is read-only; /nix has to be an APFS volume mounted through synthetic.conf.
    const darwin = process.platform === 'darwin' && dir === '/nix';
    throw new UserError(`${dir} is not writable and 'sudo -n' failed: ${tail(r.stderr, 1)}`, {
      hint: darwin
        ? 'On macOS /nix must be an APFS volume: create it before this step (the official installer\'s create-darwin-volume.sh does), owned by this user'
        : `Create ${dir} owned by this user before the step, or allow passwordless sudo`,
    });
  }
}

/**
 * Writes a file atomically (a new file renamed over the old one, born with its mode, so a
 * secret never sits in a world-readable file). When the folder is not ours (e.g.
 * /etc/nix of a Nix installed by someone else), `sudo -n install` puts the file there
 * owned by this user, leaving the folder alone.
 */
export async function writeFileAsOwner(file: string, content: string, mode: number, tmpDir: string, log: Log): Promise<void> {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(file)}.install-nix-${process.pid}`);
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    if ((process.getuid?.() ?? 0) === 0) throw e;
  }
  mkdirSync(tmpDir, { recursive: true });
  const staged = join(tmpDir, `${basename(file)}.install-nix-${process.pid}`);
  writeFileSync(staged, content, { mode: 0o600 });
  log.info(`Writing ${file} with sudo (its folder is not writable by this user)`);
  const uid = String(process.getuid?.() ?? 0);
  const gid = String(process.getgid?.() ?? 0);
  try {
    for (const args of [
      ['-n', 'install', '-d', '-m', '0755', dir],
      ['-n', 'install', '-m', mode.toString(8).padStart(4, '0'), '-o', uid, '-g', gid, staged, file],
    ]) {
      const r = await run('sudo', args).catch(() => undefined);
      if (!r || r.code !== 0) {
        throw new UserError(`Cannot write ${file}: it is not writable and 'sudo -n' failed${r ? `: ${tail(r.stderr, 1)}` : ' (no sudo)'}`, {
          hint: `Make ${dir} writable by this user before the step, or run the job as root`,
        });
      }
    }
  } finally {
    rmSync(staged, { force: true });
  }
}
