import { existsSync, readFileSync } from 'node:fs';
import { InputError, UserError } from '../errors.js';

export const BEGIN = '# BEGIN vig-os/nix-actions/install-nix (rewritten on every run)';
export const END = '# END vig-os/nix-actions/install-nix';

export interface ConfOptions {
  /** Token for `access-tokens`; empty for none. */
  githubToken?: string;
  /** GITHUB_SERVER_URL: the host of github.com or of a GitHub Enterprise Server. */
  serverUrl: string;
  trustedUsers: string[];
  extraConf: string;
  /** True when we installed Nix single-user (no build users). */
  singleUser: boolean;
}

/** Validates inputs that end up in nix.conf: one setting per line, so no newline may sneak in. */
export function checkConfInputs(o: ConfOptions): void {
  if (o.githubToken && /[\s\0]/.test(o.githubToken)) {
    throw new InputError('github-token', 'contains whitespace or control characters; give the token alone');
  }
  for (const u of o.trustedUsers) {
    if (!/^[A-Za-z0-9_.@-][A-Za-z0-9_.@$-]*$/.test(u)) throw new UserError(`Cannot trust user '${u}': not a plain user name`);
  }
  if (o.extraConf.includes('\0')) throw new InputError('extra-conf', 'contains a NUL byte');
  if (o.extraConf.includes(BEGIN) || o.extraConf.includes(END)) {
    throw new InputError('extra-conf', 'contains the install-nix block markers; remove them');
  }
  // Nix refuses a nix.conf with a line it cannot parse, which would break every later
  // step: catch it here, with the line number.
  const lines = o.extraConf.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, i) => {
    if (!/^\s*(#.*|!?include\s+\S.*|[A-Za-z0-9][A-Za-z0-9_-]*\s*=.*)?$/.test(line)) {
      const shown = line.length > 40 ? `${line.slice(0, 37)}...` : line;
      throw new InputError('extra-conf', `line ${i + 1} is not a nix.conf setting ('${shown}'): write 'name = value'`);
    }
  });
}

export function githubHost(serverUrl: string): string {
  try {
    return new URL(serverUrl).host;
  } catch {
    throw new UserError(`GITHUB_SERVER_URL '${serverUrl}' is not a URL`);
  }
}

/** The block install-nix owns in nix.conf. Order: features, token, users, jobs, then extra-conf. */
export function renderConf(o: ConfOptions): string {
  checkConfInputs(o);
  const lines = [BEGIN, 'experimental-features = nix-command flakes'];
  if (o.singleUser) lines.push('build-users-group =');
  if (o.githubToken) lines.push(`access-tokens = ${githubHost(o.serverUrl)}=${o.githubToken}`);
  lines.push(`trusted-users = ${o.trustedUsers.join(' ')}`);
  lines.push('max-jobs = auto');
  const extra = o.extraConf.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  if (extra.trim()) lines.push(extra);
  lines.push(END);
  return lines.join('\n') + '\n';
}

/** Replaces our block in an existing nix.conf (keeping everything else), or appends it. */
export function mergeConf(existing: string, block: string): string {
  const start = existing.indexOf(BEGIN);
  const end = existing.indexOf(END, start);
  if (start >= 0 && end >= 0) {
    const after = existing.slice(end + END.length).replace(/^\n/, '');
    return existing.slice(0, start) + block + after;
  }
  if (!existing.trim()) return block;
  return existing.replace(/\n*$/, '\n') + '\n' + block;
}

/**
 * The new content of nix.conf (our block merged into what is there) and its mode:
 * 0600 when it holds a token (ours, or one in extra-conf), else 0644.
 */
export function nextConf(file: string, block: string): { content: string; mode: number } {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const content = mergeConf(existing, block);
  const secret = /^\s*(extra-)?access-tokens\s*=/m.test(content);
  return { content, mode: secret ? 0o600 : 0o644 };
}
