import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
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
    throw new UserError(`${dir} is not writable and 'sudo -n' failed: ${tail(r.stderr, 1)}`, {
      hint: `Create ${dir} owned by this user before the step, or allow passwordless sudo`,
    });
  }
}
