import { UserError } from '../errors.js';

/** The store directory every path here lives in (Nix's default; a chroot store still reports it). */
export const STORE_DIR = '/nix/store';

const HASH_RE = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;

export interface StorePathParts {
  path: string;
  hash: string;
  /** The full name after the hash, e.g. `glibc-2.40-66-bin`. */
  fullName: string;
  /** Package name, e.g. `glibc`. */
  name: string;
  /** Version, e.g. `2.40-66`; '' when the name carries none (`source`). */
  version: string;
  /** Output name when the path name ends in a well-known one (`bin`, `dev`...), else `out`. */
  output: string;
  isDrv: boolean;
}

/**
 * Output names nixpkgs appends to a store path name (`<name>-<version>-<output>`).
 * Only these are split off: a version such as `1.0-rc1` must stay whole.
 */
export const KNOWN_OUTPUTS = new Set([
  'bin', 'dev', 'lib', 'out', 'man', 'doc', 'devdoc', 'info', 'debug', 'static', 'include',
  'modules', 'py', 'python', 'terminfo', 'locales', 'data', 'examples', 'tests', 'installedTests',
  'sandbox', 'firmware', 'scripts', 'perl', 'udev', 'fish', 'nc', 'shells', 'getent', 'stdenv',
]);

/**
 * Splits a derivation name the way `builtins.parseDrvName` does: the version starts
 * after the first `-` that is followed by a character other than a letter.
 * One deliberate difference: nixpkgs spells snapshot versions `unstable-YYYY-MM-DD`
 * (or `0-unstable-...`), so `foo-unstable-2024-01-01` gives name `foo` and version
 * `unstable-2024-01-01`, which is what its `pname`/`version` attributes say.
 */
export function parseDrvName(drvName: string): { name: string; version: string } {
  const unstable = /^(.+?)-((?:\d+-)?unstable-\d{4}-\d{2}-\d{2}.*)$/.exec(drvName);
  if (unstable) return { name: unstable[1], version: unstable[2] };
  for (let i = 0; i < drvName.length - 1; i++) {
    if (drvName[i] === '-' && !/[A-Za-z]/.test(drvName[i + 1])) {
      return { name: drvName.slice(0, i), version: drvName.slice(i + 1) };
    }
  }
  return { name: drvName, version: '' };
}

export function isStorePath(path: string, storeDir = STORE_DIR): boolean {
  if (!path.startsWith(`${storeDir}/`)) return false;
  const base = path.slice(storeDir.length + 1);
  return !base.includes('/') && HASH_RE.test(base.slice(0, 32)) && base[32] === '-' && base.length > 33;
}

/** Parses `/nix/store/<hash>-<name>` (or the bare `<hash>-<name>`) into its parts. */
export function parseStorePath(path: string, storeDir = STORE_DIR): StorePathParts {
  const base = path.startsWith(`${storeDir}/`) ? path.slice(storeDir.length + 1) : path;
  const hash = base.slice(0, 32);
  if (!HASH_RE.test(hash) || base[32] !== '-' || base.length < 34 || base.includes('/')) {
    throw new UserError(`'${path}' is not a Nix store path`);
  }
  let fullName = base.slice(33);
  const isDrv = fullName.endsWith('.drv');
  if (isDrv) fullName = fullName.slice(0, -4);
  let { name, version } = parseDrvName(fullName);
  let output = 'out';
  // `glibc-2.40-66-bin`: the output name is the last dash-separated part of the version.
  const lastDash = version.lastIndexOf('-');
  if (!isDrv && lastDash > 0 && KNOWN_OUTPUTS.has(version.slice(lastDash + 1))) {
    output = version.slice(lastDash + 1);
    version = version.slice(0, lastDash);
  } else if (!isDrv && version === '') {
    // `foo-dev` with no version at all
    const dash = name.lastIndexOf('-');
    if (dash > 0 && KNOWN_OUTPUTS.has(name.slice(dash + 1))) {
      output = name.slice(dash + 1);
      name = name.slice(0, dash);
    }
  }
  return { path: `${storeDir}/${base}`, hash, fullName, name, version, output, isDrv };
}

/** Makes a store path absolute: newer Nix JSON (derivation format v3+) gives bare base names. */
export function absoluteStorePath(path: string, storeDir = STORE_DIR): string {
  return path.startsWith('/') ? path : `${storeDir}/${path}`;
}
