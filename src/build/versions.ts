import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClosureEntry } from '../image/closure.js';

/**
 * The versions file (`versions` output): one entry per store path in the image,
 * sorted by name, then version, then path. Shape (documented in build/README.md):
 *   [{ "name": "hello", "version": "2.12.1", "output": "out", "path": "/nix/store/...-hello-2.12.1" }]
 * `version` is "" when the store path name carries none (e.g. `source`).
 * Names and versions are read from the store path names, the way Nix's own
 * `builtins.parseDrvName` reads them (src/nix/storepath.ts).
 */
export interface VersionEntry {
  name: string;
  version: string;
  output: string;
  path: string;
}

export function versionsOf(entries: readonly ClosureEntry[]): VersionEntry[] {
  return entries
    .map(({ name, version, output, path }) => ({ name, version, output, path }))
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.path, b.path));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function writeVersionsFile(file: string, versions: readonly VersionEntry[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(versions, null, 2) + '\n');
}
