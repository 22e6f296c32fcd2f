import type { Package } from './read.js';

/**
 * The package-level difference between two SBOMs, the question a reviewer of a
 * dependency update asks: what was added, what was removed, what changed version,
 * and what was rebuilt at the same version (different hashes: a patch, a changed
 * build input). Packages are matched by name; a name present at several versions
 * (two outputs, or two versions side by side) is compared as a set of versions.
 *
 * JSON shape (the `report` file of the sbom-diff action):
 * { added: [{name, versions}], removed: [{name, versions}],
 *   changed: [{name, from, to}], rebuilt: [{name, versions}],
 *   unchanged: number, base: {file, packages}, head: {file, packages} }
 */
export interface SbomDiff {
  added: { name: string; versions: string[] }[];
  removed: { name: string; versions: string[] }[];
  changed: { name: string; from: string[]; to: string[] }[];
  rebuilt: { name: string; versions: string[] }[];
  unchanged: number;
  base: { file: string; packages: number };
  head: { file: string; packages: number };
}

interface Entry {
  versions: Set<string>;
  /** version -> hashes seen at that version */
  hashes: Map<string, Set<string>>;
}

function index(packages: Package[]): Map<string, Entry> {
  const map = new Map<string, Entry>();
  for (const p of packages) {
    let e = map.get(p.name);
    if (!e) map.set(p.name, (e = { versions: new Set(), hashes: new Map() }));
    e.versions.add(p.version);
    let hs = e.hashes.get(p.version);
    if (!hs) e.hashes.set(p.version, (hs = new Set()));
    for (const h of p.hashes) hs.add(h);
  }
  return map;
}

const sorted = (s: Iterable<string>): string[] => [...s].sort(compareVersions);
const sameSet = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

/** Orders versions naturally (1.9 before 1.10); an empty version sorts first. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function diffSboms(
  base: { file: string; packages: Package[] },
  head: { file: string; packages: Package[] },
): SbomDiff {
  const b = index(base.packages);
  const h = index(head.packages);
  const out: SbomDiff = {
    added: [],
    removed: [],
    changed: [],
    rebuilt: [],
    unchanged: 0,
    base: { file: base.file, packages: base.packages.length },
    head: { file: head.file, packages: head.packages.length },
  };
  const names = [...new Set([...b.keys(), ...h.keys()])].sort();
  for (const name of names) {
    const was = b.get(name);
    const now = h.get(name);
    if (!was) out.added.push({ name, versions: sorted(now!.versions) });
    else if (!now) out.removed.push({ name, versions: sorted(was.versions) });
    else if (!sameSet(was.versions, now.versions)) {
      out.changed.push({ name, from: sorted(was.versions), to: sorted(now.versions) });
    } else {
      // Same versions: a hash that differs (both sides listing hashes) is a rebuild.
      const rebuilt = [...now.versions].some((v) => {
        const x = was.hashes.get(v)!;
        const y = now.hashes.get(v)!;
        return x.size > 0 && y.size > 0 && !sameSet(x, y);
      });
      if (rebuilt) out.rebuilt.push({ name, versions: sorted(now.versions) });
      else out.unchanged++;
    }
  }
  return out;
}

export const hasChanges = (d: SbomDiff): boolean =>
  d.added.length + d.removed.length + d.changed.length + d.rebuilt.length > 0;
