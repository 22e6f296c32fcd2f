#!/usr/bin/env node
// Rewrites src/install/releases-table.ts, the pinned SHA-256 table of the official Nix
// binary tarballs, from the official `.sha256` files on releases.nixos.org, and checks
// each hash also appears in that version's official `install` script (same server, a
// second file). Needs the internet; .github/workflows/update-nix-releases.yml runs it
// on a schedule and opens a pull request with the change for a person to review.
//
//   scripts/update-nix-releases [--latest 3] [--versions 2.34.6,2.35.2] [--accept-changed]
//                               [--releases-url URL] [--github-api URL] [--output FILE]
//
// Versions: those already in the table, those given, and the newest --latest releases
// of NixOS/nix on GitHub (0 to skip GitHub). A hash that differs from the one already
// pinned stops the script (a published release must never change) unless
// --accept-changed is given. Nothing is guessed: a version whose .sha256 is missing for
// a system gets no entry for that system.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'aarch64-darwin'];
const root = new URL('..', import.meta.url).pathname;

function option(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) return true;
  return v;
}
const releasesUrl = String(option('releases-url', 'https://releases.nixos.org/nix')).replace(/\/$/, '');
const githubApi = String(option('github-api', 'https://api.github.com')).replace(/\/$/, '');
const output = String(option('output', join(root, 'src', 'install', 'releases-table.ts')));
const latest = Number(option('latest', 3));
const acceptChanged = Boolean(option('accept-changed', false));
const given = String(option('versions', '') || '').split(',').map((s) => s.trim()).filter(Boolean);

function fail(message) {
  console.error(`update-nix-releases: ${message}`);
  process.exit(1);
}

const VERSION = /^\d+\.\d+\.\d+$/;
for (const v of given) if (!VERSION.test(v)) fail(`'${v}' is not a release version`);

/** The entries already pinned (parsed from the generated file's data lines). */
function currentTable() {
  let text = '';
  try {
    text = readFileSync(output, 'utf8');
  } catch {
    return {};
  }
  const table = {};
  let version;
  let system;
  for (const line of text.split('\n')) {
    const v = /^  '([^']+)': \{$/.exec(line);
    if (v) version = v[1];
    const s = /^    '([^']+)': \{$/.exec(line);
    if (s) system = s[1];
    const h = /^      sha256: '([0-9a-f]{64})',$/.exec(line);
    if (h && version && system) (table[version] ??= {})[system] = h[1];
  }
  return table;
}

async function get(url, { allow404 = false, headers = {} } = {}) {
  const r = await fetch(url, { redirect: 'follow', headers, signal: AbortSignal.timeout(60_000) });
  if (allow404 && r.status === 404) return undefined;
  if (!r.ok) fail(`GET ${url}: HTTP ${r.status}`);
  return r.text();
}

async function latestReleases(n) {
  if (!n) return [];
  const headers = { accept: 'application/vnd.github+json' };
  if (process.env.GITHUB_TOKEN) headers.authorization = `Bearer ${process.env.GITHUB_TOKEN}`;
  const list = JSON.parse(await get(`${githubApi}/repos/NixOS/nix/releases?per_page=30`, { headers }));
  return list
    .filter((r) => !r.prerelease && !r.draft && VERSION.test(r.tag_name))
    .map((r) => r.tag_name)
    .slice(0, n);
}

const cmp = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return y[i] - x[i];
  return 0;
};

const pinned = currentTable();
const versions = [...new Set([...Object.keys(pinned), ...given, ...(await latestReleases(latest))])].sort(cmp);
const date = new Date().toISOString().slice(0, 10);
const table = {};
for (const version of versions) {
  const script = (await get(`${releasesUrl}/nix-${version}/install`, { allow404: true })) ?? '';
  for (const system of SYSTEMS) {
    const url = `${releasesUrl}/nix-${version}/nix-${version}-${system}.tar.xz.sha256`;
    const text = await get(url, { allow404: true });
    if (text === undefined) {
      console.error(`note: no ${system} tarball for Nix ${version}`);
      continue;
    }
    const sha256 = text.trim().split(/\s+/)[0];
    if (!/^[0-9a-f]{64}$/.test(sha256)) fail(`${url} does not hold a SHA-256`);
    if (!script.includes(`hash=${sha256}`)) fail(`${url} says ${sha256}, which the official install script of ${version} does not contain`);
    const old = pinned[version]?.[system];
    if (old && old !== sha256 && !acceptChanged) fail(`the published hash of Nix ${version} ${system} changed: pinned ${old}, now ${sha256} (investigate; --accept-changed to take it)`);
    (table[version] ??= {})[system] = { sha256, source: `${url} (fetched ${date}; also in ${releasesUrl}/nix-${version}/install)` };
  }
}

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
let body = '';
for (const version of Object.keys(table).sort(cmp)) {
  body += `  ${q(version)}: {\n`;
  for (const system of SYSTEMS) {
    const e = table[version][system];
    if (!e) continue;
    body += `    ${q(system)}: {\n      sha256: ${q(e.sha256)},\n      source: ${q(e.source)},\n    },\n`;
  }
  body += '  },\n';
}
writeFileSync(
  output,
  `/**
 * The pinned release table: SHA-256 of each official Nix binary tarball
 * (https://releases.nixos.org/nix/nix-<version>/nix-<version>-<system>.tar.xz).
 *
 * Generated by scripts/update-nix-releases from the official .sha256 files (each hash
 * also checked against that version's official install script). The script needs the
 * internet: the scheduled workflow .github/workflows/update-nix-releases.yml runs it
 * and opens a pull request for a person to review. Do not edit by hand, and never add
 * a hash that was not fetched from releases.nixos.org.
 *
 * A version or system with no entry is never installed on trust: the step fails and
 * says how to pin a hash (installer-url with installer-sha256), or how to opt into the
 * official .sha256 fetched over TLS at run time (trust-upstream-sha256: true, which
 * the log reports as a warning).
 */
export interface ReleaseEntry {
  /** Lower-case hex SHA-256 of the tarball. */
  sha256: string;
  /** Where the hash was taken from. */
  source: string;
}

export const NIX_RELEASES: Record<string, Record<string, ReleaseEntry>> = {
${body}};
`,
);
console.log(`wrote ${output}: ${Object.keys(table).length} versions (${Object.keys(table).join(', ')})`);
