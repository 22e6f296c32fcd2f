import { lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';

/**
 * The installer works on a root directory: `/` on a runner, a temporary directory in
 * tests (NIX_ACTIONS_INSTALL_ROOT). Store paths inside the store and in symlinks stay
 * the logical `/nix/store/...`; these helpers map them onto the root.
 */
export function inRoot(root: string, absolute: string): string {
  return root === '/' ? absolute : join(root, absolute);
}

export interface Layout {
  root: string;
  nix: string;
  store: string;
  state: string;
  db: string;
  profiles: string;
  defaultProfile: string;
  confDir: string;
  confFile: string;
}

export function layout(root: string): Layout {
  const state = inRoot(root, '/nix/var/nix');
  return {
    root,
    nix: inRoot(root, '/nix'),
    store: inRoot(root, '/nix/store'),
    state,
    db: join(state, 'db', 'db.sqlite'),
    profiles: join(state, 'profiles'),
    defaultProfile: join(state, 'profiles', 'default'),
    confDir: inRoot(root, '/etc/nix'),
    confFile: inRoot(root, '/etc/nix/nix.conf'),
  };
}

/**
 * Resolves `path` (a real path under root) component by component, re-rooting
 * absolute symlink targets, so a profile link to /nix/store/... resolves inside a
 * temporary root. Returns undefined when something on the way does not exist.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const rootPrefix = root === '/' ? '' : root.replace(/\/$/, '');
  // Work on the logical path (as seen from inside the root).
  let logical = rootPrefix && path.startsWith(rootPrefix + '/') ? path.slice(rootPrefix.length) : path;
  for (let hops = 0; hops < 64; hops++) {
    const parts = logical.split('/').filter(Boolean);
    let current = '/';
    let relinked = false;
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(current, parts[i]);
      let st;
      try {
        st = lstatSync(inRoot(root, next));
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(inRoot(root, next));
        const base = isAbsolute(target) ? target : posix.join(current, target);
        logical = posix.join(base, ...parts.slice(i + 1));
        relinked = true;
        break;
      }
      current = next;
    }
    if (!relinked) return inRoot(root, current);
  }
  return undefined;
}
