import { flattenInputs, type FlatInput, type LockFile } from './lock.js';
import { compareLink, sameRef, summarizeRef, type RefSummary } from './ref.js';

/**
 * The lock diff, computed the way Nix computes its "Updated input" lines: both
 * locks are flattened to input attribute paths and compared path by path.
 */
export type ChangeKind = 'added' | 'removed' | 'updated' | 'type-changed' | 'follows-changed';

export interface Side {
  /** Set when the input follows another: the followed path, e.g. `nixpkgs`. */
  follows?: string;
  /** The locked reference (of the followed node, for a follows). */
  locked?: RefSummary;
  /** Node key in flake.lock. */
  node: string;
  flake: boolean;
}

export interface InputChange {
  /** Input attribute path, e.g. `devenv/nixpkgs`. */
  input: string;
  change: ChangeKind;
  old?: Side;
  new?: Side;
  /** Compare view between the two revisions on a forge; else undefined (see oldUrl/newUrl in old/new). */
  link?: string;
}

function side(entry: FlatInput): Side {
  const s: Side = { node: entry.node.key, flake: entry.node.flake };
  if (entry.follows) s.follows = entry.follows.join('/');
  if (entry.node.locked) s.locked = summarizeRef(entry.node.locked);
  return s;
}

/** Compares two locks (either may be absent: everything added or removed). */
export function diffLocks(base: LockFile | undefined, head: LockFile | undefined): InputChange[] {
  const a = new Map((base ? flattenInputs(base) : []).map((e) => [e.path.join('/'), e]));
  const b = new Map((head ? flattenInputs(head) : []).map((e) => [e.path.join('/'), e]));
  const out: InputChange[] = [];
  for (const input of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(input);
    const y = b.get(input);
    if (!x) {
      out.push({ input, change: 'added', new: side(y!) });
      continue;
    }
    if (!y) {
      out.push({ input, change: 'removed', old: side(x) });
      continue;
    }
    const followsX = x.follows?.join('/');
    const followsY = y.follows?.join('/');
    if (followsX !== followsY) {
      out.push({ input, change: 'follows-changed', old: side(x), new: side(y) });
      continue;
    }
    // A follows whose target changed is reported at the target's own path, as Nix does.
    if (followsY !== undefined) continue;
    const lx = x.node.locked;
    const ly = y.node.locked;
    if (sameRef(lx, ly)) continue;
    const change: ChangeKind = lx && ly && lx.type !== ly.type ? 'type-changed' : 'updated';
    const link = lx && ly ? compareLink(lx, ly) : undefined;
    out.push({ input, change, old: side(x), new: side(y), ...(link ? { link } : {}) });
  }
  return out;
}
