import { parseStorePath, type PathInfo } from '../nix/index.js';

/**
 * Package-level change between two closures, like nvd/dix: store paths grouped by
 * package name, each with the set of versions present; a package whose versions
 * differ is changed, one only on one side added or removed.
 */
export interface PackageChange {
  name: string;
  change: 'changed' | 'added' | 'removed';
  old: string[];
  new: string[];
}

export function versionsByName(paths: Iterable<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of paths) {
    const parts = parseStorePath(p);
    if (parts.isDrv) continue;
    const set = out.get(parts.name) ?? new Set<string>();
    set.add(parts.version);
    out.set(parts.name, set);
  }
  return out;
}

const sortVersions = (s: Set<string> | undefined): string[] =>
  [...(s ?? [])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

export function diffClosures(base: Iterable<string> | Map<string, PathInfo>, head: Iterable<string> | Map<string, PathInfo>): PackageChange[] {
  const a = versionsByName(base instanceof Map ? base.keys() : base);
  const b = versionsByName(head instanceof Map ? head.keys() : head);
  const out: PackageChange[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const old = sortVersions(a.get(name));
    const neu = sortVersions(b.get(name));
    if (!a.has(name)) out.push({ name, change: 'added', old, new: neu });
    else if (!b.has(name)) out.push({ name, change: 'removed', old, new: neu });
    else if (old.join('\0') !== neu.join('\0')) out.push({ name, change: 'changed', old, new: neu });
  }
  return out;
}
