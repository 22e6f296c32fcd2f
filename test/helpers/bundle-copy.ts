import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { NODE24, ROOT } from './bundle.js';

export interface BundleCopy {
  /** Node 24, copied. */
  node: string;
  /** A dist folder holding the copied actions (pass as runBundle's distDir). */
  distDir: string;
  cleanup(): void;
}

/**
 * Node 24 and the dist bundles of `actions`, copied into a world-readable folder
 * under the system temp dir. A test that runs a bundle as another user (uid 65534)
 * must not depend on where the checkout lives: a CI clone under /root (mode 0700)
 * is unreadable to that user.
 */
export function copyBundle(...actions: string[]): BundleCopy {
  const dir = mkdtempSync(join(tmpdir(), 'nix-actions-bundle-'));
  chmodSync(dir, 0o755);
  const node = join(dir, 'node');
  copyFileSync(NODE24, node);
  chmodSync(node, 0o755);
  const distDir = join(dir, 'dist');
  for (const action of actions) copyTree(join(ROOT, 'dist', action), join(distDir, action));
  return { node, distDir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  chmodSync(dirname(to), 0o755);
  chmodSync(to, 0o755);
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst);
    else {
      copyFileSync(src, dst);
      chmodSync(dst, 0o644);
    }
  }
}

/** Whether `path` can be reached and read by any user: every folder above it searchable by others, itself readable. */
export function worldReadable(path: string): boolean {
  if ((statSync(path).mode & 0o004) === 0) return false;
  for (let d = dirname(path); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}
