import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Layout } from './root.js';

/** Where distributions keep their CA bundle; the same probe order as Nix's own nix-daemon.sh. */
export const SYSTEM_CERT_FILES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, NixOS, Arch
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/certs/ca-bundle.crt', // old NixOS
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, CentOS
];

export interface Exports {
  /** In the order to hand to addPath (each one is prepended, so the last wins). */
  path: string[];
  vars: Record<string, string>;
}

/**
 * What later steps need to use Nix, as the official profile scripts set it: the default
 * profile (Nix and the CA bundle) and the user's own profile on PATH, NIX_PROFILES, and
 * NIX_SSL_CERT_FILE unless the job set one. A temporary root also gets NIX_CONF_DIR and
 * NIX_REMOTE so later Nix commands use it.
 */
export function exportsFor(lay: Layout, options: { home: string; env: NodeJS.ProcessEnv; certFiles?: string[] }): Exports {
  const userProfile = join(options.home, '.nix-profile');
  const vars: Record<string, string> = {
    NIX_PROFILES: `${lay.defaultProfile} ${userProfile}`,
  };
  if (!options.env.NIX_SSL_CERT_FILE) {
    const system = (options.certFiles ?? SYSTEM_CERT_FILES).find((f) => existsSync(f));
    vars.NIX_SSL_CERT_FILE = system ?? join(lay.defaultProfile, 'etc', 'ssl', 'certs', 'ca-bundle.crt');
  }
  if (lay.root !== '/') {
    vars.NIX_CONF_DIR = lay.confDir;
    vars.NIX_REMOTE = `local?root=${lay.root}`;
  }
  return { path: [join(lay.defaultProfile, 'bin'), join(userProfile, 'bin')], vars };
}
