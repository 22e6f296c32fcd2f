import { UserError } from '../errors.js';
import semver from 'semver';
import { NIX_RELEASES, type ReleaseEntry } from './releases-table.js';
import type { NixSystem } from './platform.js';

export const OFFICIAL_RELEASES_URL = 'https://releases.nixos.org/nix';

/** How the table itself gets entries: only from the official files, by the script. */
const TABLE_FILL = 'the table is filled from the official .sha256 files by scripts/update-nix-releases (run where the internet is)';

export type ReleaseTable = Record<string, Record<string, ReleaseEntry>>;

/** What to download and the hash it must have, and why we trust that hash. */
export interface TarballSource {
  url: string;
  /** Lower-case hex SHA-256. */
  sha256: string;
  /** The Nix version, when known before unpacking (from the table, the input or the file name). */
  version?: string;
  /** 'table' | 'input' | 'upstream' (fetched .sha256, opt-in). */
  trust: 'table' | 'input' | 'upstream';
  /** Where the hash came from, for the summary. */
  hashSource: string;
}

const VERSION_RE = /^\d+\.\d+(\.\d+)?([-.+~][0-9A-Za-z.]+)?$/;

/** Validates a version string from an input: digits and dots (pre-release suffixes allowed). */
export function checkVersion(version: string): string {
  if (!VERSION_RE.test(version) || version.length > 40) {
    throw new UserError(`Input 'nix-version': '${clip(version)}' is not a Nix version`, {
      hint: "Give a release such as '2.34.6', or leave it empty for the newest pinned release",
    });
  }
  return version;
}

/** The newest version in the table that has an entry for `system`. */
export function newestVersion(table: ReleaseTable, system: NixSystem): string | undefined {
  const versions = Object.keys(table).filter((v) => table[v]?.[system]);
  return versions.sort((a, b) => semver.compare(semver.coerce(b) ?? '0.0.0', semver.coerce(a) ?? '0.0.0'))[0];
}

export function officialTarballUrl(version: string, system: NixSystem, base = OFFICIAL_RELEASES_URL): string {
  return `${base.replace(/\/$/, '')}/nix-${version}/nix-${version}-${system}.tar.xz`;
}

/** Reads a version from an official tarball file name (nix-2.34.6-x86_64-linux.tar.xz). */
export function versionFromFileName(url: string): string | undefined {
  const name = url.split(/[?#]/)[0].split('/').pop() ?? '';
  const m = /^nix-(.+)-(x86_64|aarch64|i686|armv[67]l|riscv64)-(linux|darwin|freebsd)\.tar\.(xz|zst|gz|bz2)$/.exec(name);
  return m && VERSION_RE.test(m[1]) ? m[1] : undefined;
}

/** Parses a SHA-256 given by a user: hex, SRI (sha256-...), or Nix base-32 (sha256:...). */
export function parseSha256(text: string, input = 'installer-sha256'): string {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(t);
  if (sri) return Buffer.from(sri[1], 'base64').toString('hex');
  throw new UserError(`Input '${input}': '${clip(t)}' is not a SHA-256`, {
    hint: 'Give 64 hexadecimal digits (sha256sum prints them) or an SRI hash (sha256-...)',
  });
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

export interface ResolveOptions {
  system: NixSystem;
  version?: string;
  installerUrl?: string;
  installerSha256?: string;
  trustUpstreamSha256?: boolean;
  table?: ReleaseTable;
  /** Base of the official releases (tests point it at a loopback server). */
  releasesUrl?: string;
  /** Fetches the official `.sha256` file (only with trustUpstreamSha256). */
  fetchText?: (url: string) => Promise<string>;
}

/**
 * Decides what to download and which SHA-256 it must match. Never guesses: a hash
 * comes from the pinned table, from `installer-sha256`, or (only when the user opts
 * in) from the official `.sha256` file fetched over TLS.
 */
export async function resolveTarball(o: ResolveOptions): Promise<TarballSource> {
  const table = o.table ?? NIX_RELEASES;
  if (o.installerUrl) {
    let url: URL;
    try {
      url = new URL(o.installerUrl);
    } catch {
      throw new UserError(`Input 'installer-url': '${clip(o.installerUrl)}' is not a URL`, {
        hint: 'Give the https:// URL of a Nix binary tarball on your mirror',
      });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UserError(`Input 'installer-url': only http(s) URLs are supported, got '${url.protocol}'`);
    }
    if (!o.installerSha256) {
      throw new UserError("Input 'installer-url' needs 'installer-sha256'", {
        hint: 'Give the SHA-256 of the tarball (sha256sum nix-<version>-<system>.tar.xz) so the download can be verified',
      });
    }
    const version = o.version ?? versionFromFileName(url.href);
    return { url: url.href, sha256: parseSha256(o.installerSha256), version, trust: 'input', hashSource: 'input installer-sha256' };
  }
  if (o.installerSha256) {
    throw new UserError("Input 'installer-sha256' is only used with 'installer-url'", {
      hint: 'Remove it to use the pinned release table, or give the mirror URL in installer-url',
    });
  }
  const version = o.version ?? newestVersion(table, o.system);
  if (!version) {
    throw new UserError(`The pinned release table of this action has no Nix release for ${o.system}, so there is no default version`, {
      hint:
        `Set nix-version and pin its hash with installer-url: ${officialTarballUrl('<version>', o.system, o.releasesUrl)} and installer-sha256: <sha256 of that file>, ` +
        `or set nix-version with trust-upstream-sha256: true to trust the official .sha256 file fetched over TLS (logged as a warning); ${TABLE_FILL}`,
    });
  }
  const url = officialTarballUrl(version, o.system, o.releasesUrl);
  const entry = table[version]?.[o.system];
  if (entry) return { url, sha256: entry.sha256, version, trust: 'table', hashSource: `pinned table (${entry.source})` };
  if (o.trustUpstreamSha256) {
    const shaUrl = `${url}.sha256`;
    const parsed = new URL(shaUrl);
    const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost' || parsed.hostname === '[::1]';
    if (parsed.protocol !== 'https:' && !loopback) {
      throw new UserError(`Refusing to fetch ${shaUrl} without TLS`, { hint: 'Use an https:// releases URL' });
    }
    if (!o.fetchText) throw new Error('resolveTarball: fetchText is required with trustUpstreamSha256');
    const text = await o.fetchText(shaUrl);
    const sha256 = parseSha256(text.trim().split(/\s+/)[0] ?? '', `${shaUrl}`);
    return { url, sha256, version, trust: 'upstream', hashSource: `${shaUrl} (fetched at run time, trust-upstream-sha256)` };
  }
  const known = Object.keys(table)
    .filter((v) => table[v]?.[o.system])
    .join(', ');
  throw new UserError(`Nix ${version} for ${o.system} is not in the pinned release table of this action (it has: ${known || 'none'})`, {
    hint:
      `Pin the hash yourself with installer-url: ${url} and installer-sha256: <sha256 of that file>, ` +
      `or set trust-upstream-sha256: true to trust the official .sha256 file fetched over TLS (logged as a warning); ${TABLE_FILL}`,
  });
}
