import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { run, tail } from '../process/run.js';

/** An official binary tarball, unpacked: nix-<version>-<system>/{install,.reginfo,store/}. */
export interface UnpackedRelease {
  dir: string;
  version: string;
  system: string;
  /** Store path of Nix itself (from the tarball's own install script). */
  nixPath: string;
  /** Store path of the CA bundle package, when the tarball ships one. */
  cacertPath?: string;
  reginfo: string;
  /** Names of the entries of store/ (hash-name). */
  storeEntries: string[];
}

/** Unpacks with the system tar (it detects xz/zstd/gzip itself). Only after the hash was verified. */
export async function unpackTarball(file: string, into: string): Promise<string> {
  mkdirSync(into, { recursive: true });
  const result = await run('tar', ['-xf', file, '-C', into]);
  if (result.code !== 0) {
    throw new UserError(`Could not unpack the Nix tarball: ${tail(result.stderr, 3)}`, {
      hint: 'The file matched its SHA-256 but is not a tar archive tar can read: check installer-url points at a Nix binary tarball, and that xz is installed',
    });
  }
  return into;
}

/**
 * Reads the layout of an unpacked official tarball. The Nix and CA-bundle store paths
 * come from the tarball's own install script (`nix="@nix@"` substituted at release).
 */
export function readRelease(unpacked: string, expect: { system: string; version?: string }): UnpackedRelease {
  const tops = readdirSync(unpacked).filter((n) => !n.startsWith('.'));
  const m = tops.length === 1 ? /^nix-(.+)-([a-z0-9_]+-[a-z]+)$/.exec(tops[0]) : null;
  if (!m) {
    throw new UserError(`The tarball is not a Nix binary tarball (expected one nix-<version>-<system>/ folder, found: ${tops.slice(0, 5).join(', ') || 'nothing'})`);
  }
  const [, version, system] = m;
  if (system !== expect.system) {
    throw new UserError(`The tarball is for ${system}, but this runner is ${expect.system}`, {
      hint: 'Point installer-url at the tarball for this runner',
    });
  }
  if (expect.version && version !== expect.version) {
    throw new UserError(`The tarball holds Nix ${version}, but ${expect.version} was asked for`, {
      hint: 'Make nix-version match the tarball at installer-url',
    });
  }
  const dir = join(unpacked, tops[0]);
  const script = join(dir, 'install');
  const reginfo = join(dir, '.reginfo');
  if (!existsSync(script) || !existsSync(reginfo) || !existsSync(join(dir, 'store'))) {
    throw new UserError(`The tarball lacks install, .reginfo or store/ in ${tops[0]}/: it is not a Nix binary tarball`);
  }
  const text = readFileSync(script, 'utf8');
  const nixPath = /^nix="(\/nix\/store\/[^"/]+)"$/m.exec(text)?.[1];
  const cacertPath = /^cacert="(\/nix\/store\/[^"/]+)"$/m.exec(text)?.[1];
  if (!nixPath) throw new UserError(`The tarball's install script does not name the Nix store path (nix="/nix/store/...")`);
  const storeEntries = readdirSync(join(dir, 'store')).sort();
  for (const p of [nixPath, cacertPath]) {
    if (p && !storeEntries.includes(p.slice('/nix/store/'.length))) {
      throw new UserError(`The tarball's install script names ${p}, which is not in its store/`);
    }
  }
  return { dir, version, system, nixPath, cacertPath, reginfo, storeEntries };
}
