import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/bundle.js';
import { serveFiles, type FileServer } from '../helpers/nix-tarball.js';
import { tempDirs } from '../helpers/tmp.js';


/** Temporary directories, removed after the tests (read-only store paths included). */
const tmp = tempDirs();

/**
 * scripts/update-nix-releases against a local copy of the releases.nixos.org layout
 * and a stand-in for the GitHub releases API (the real ones need the internet). The
 * hashes here are of made-up test bytes, not of real releases.
 */
const exec = promisify(execFile);
const hash = (s: string) => createHash('sha256').update(s).digest('hex');
let files: FileServer;
let api: Server;
let apiUrl: string;
let dir: string;

function publish(version: string, systems: Record<string, string>, scriptHashes = Object.values(systems)) {
  mkdirSync(join(dir, `nix-${version}`), { recursive: true });
  for (const [system, sha] of Object.entries(systems)) writeFileSync(join(dir, `nix-${version}`, `nix-${version}-${system}.tar.xz.sha256`), `${sha}\n`);
  writeFileSync(join(dir, `nix-${version}`, 'install'), `#!/bin/sh\ncase x in\n${scriptHashes.map((h) => `    x)\n        hash=${h}\n        ;;\n`).join('')}esac\n`);
}

/** Loads a generated table (TypeScript with one interface and one annotation) as a module. */
let loads = 0;
async function loadTable(file: string): Promise<Record<string, Record<string, { sha256: string; source: string }>>> {
  const js = readFileSync(file, 'utf8')
    .replace(/export interface ReleaseEntry \{[\s\S]*?\n\}\n/, '')
    .replace(': Record<string, Record<string, ReleaseEntry>>', '');
  const mjs = `${file}.${++loads}.mjs`;
  writeFileSync(mjs, js);
  return (await import(mjs)).NIX_RELEASES;
}

async function script(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(join(ROOT, 'scripts', 'update-nix-releases'), ['--releases-url', files.url, '--github-api', apiUrl, ...args], { env: { PATH: process.env.PATH } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: any) {
    return { code: e.code, out: String(e.stdout) + String(e.stderr) };
  }
}

beforeAll(async () => {
  dir = tmp('install-nix-releases-');
  publish('2.40.1', { 'x86_64-linux': hash('a'), 'aarch64-linux': hash('b') });
  publish('2.39.0', { 'x86_64-linux': hash('c'), 'aarch64-linux': hash('d'), 'aarch64-darwin': hash('e') });
  publish('2.38.2', { 'x86_64-linux': hash('f') });
  files = await serveFiles(dir);
  api = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url?.startsWith('/repos/NixOS/nix/releases') ? [
      { tag_name: '2.41.0pre1', prerelease: true },
      { tag_name: '2.40.1', prerelease: false },
      { tag_name: '2.39.0', prerelease: false },
      { tag_name: '2.38.2', prerelease: false },
    ] : []));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
});

afterAll(async () => {
  await files?.close();
  await new Promise<void>((r) => api.close(() => r()));
});

it('writes the table from the .sha256 files of the newest releases, skipping missing systems', async () => {
  const output = join(tmp('table-'), 'releases-table.ts');
  const r = await script(['--latest', '2', '--output', output]);
  expect(r.code).toBe(0);
  const NIX_RELEASES = await loadTable(output);
  expect(Object.keys(NIX_RELEASES)).toEqual(['2.40.1', '2.39.0']);
  expect(NIX_RELEASES['2.40.1']['x86_64-linux'].sha256).toBe(hash('a'));
  expect(NIX_RELEASES['2.40.1']['aarch64-darwin']).toBeUndefined();
  expect(NIX_RELEASES['2.39.0']['aarch64-darwin'].source).toMatch(/nix-2\.39\.0-aarch64-darwin\.tar\.xz\.sha256 \(fetched \d{4}-\d\d-\d\d; also in .*\/nix-2\.39\.0\/install\)$/);
  expect(r.out).toMatch(/no aarch64-darwin tarball for Nix 2\.40\.1/);

  // Rerun: pinned versions are kept when they fall out of the newest N, and --versions adds one.
  const again = await script(['--latest', '1', '--versions', '2.38.2', '--output', output]);
  expect(again.code).toBe(0);
  expect(Object.keys(await loadTable(output))).toEqual(['2.40.1', '2.39.0', '2.38.2']);
});

it('stops when a pinned hash changed upstream, or the install script disagrees', async () => {
  const output = join(tmp('table-'), 'releases-table.ts');
  expect((await script(['--latest', '0', '--versions', '2.38.2', '--output', output])).code).toBe(0);
  const before = readFileSync(output, 'utf8');
  publish('2.38.2', { 'x86_64-linux': hash('tampered') });
  const changed = await script(['--latest', '0', '--output', output]);
  expect(changed.code).toBe(1);
  expect(changed.out).toContain(`the published hash of Nix 2.38.2 x86_64-linux changed: pinned ${hash('f')}, now ${hash('tampered')}`);
  expect(readFileSync(output, 'utf8')).toBe(before);

  publish('2.38.2', { 'x86_64-linux': hash('f') }, [hash('other')]);
  const disagree = await script(['--latest', '0', '--output', output]);
  expect(disagree.code).toBe(1);
  expect(disagree.out).toMatch(/which the official install script of 2\.38\.2 does not contain/);
  publish('2.38.2', { 'x86_64-linux': hash('f') });
});

it('refuses a version that is not a release number', async () => {
  const r = await script(['--versions', '2.38.2;id', '--output', '/dev/null']);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/'2\.38\.2;id' is not a release version/);
});
