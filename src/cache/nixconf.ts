import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { homedir, userInfo } from 'node:os';
import { UserError } from '../errors.js';
import { run, tail } from '../process/run.js';
import type { Nix } from '../nix/index.js';

/**
 * Where the running Nix reads substituter settings, writing them there, and reading
 * them back through Nix itself. The read-back is the point: a setting Nix does not
 * see (overridden by NIX_CONFIG, ignored by a daemon for an untrusted user, a file
 * Nix never reads) is an error here rather than a silent cache miss later.
 */

export interface CacheSettings {
  substituters: string[];
  publicKeys: string[];
  /** netrc entries for private caches: host -> password (token). */
  netrc: { machine: string; password: string }[];
}

export type NixConfig = Record<string, unknown>;

/** `nix show-config --json` (Nix < 2.20) / `nix config show --json`, as name -> value. */
export async function readNixConfig(nix: Nix): Promise<NixConfig> {
  const cmd = nix.atLeast('2.20.0') ? ['config', 'show', '--json'] : ['show-config', '--json'];
  const json = await nix.json<Record<string, any>>(cmd, `nix ${cmd.slice(0, -1).join(' ')}`);
  const out: NixConfig = {};
  // Nix >= 2.4 gives {value, defaultValue, description...} per setting; older gave the bare value.
  for (const [k, v] of Object.entries(json)) out[k] = v && typeof v === 'object' && 'value' in v ? v.value : v;
  return out;
}

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : [];
const trimSlash = (u: string) => u.replace(/\/+$/, '');

export type StoreKind = 'daemon' | 'local';

/** Which store this Nix talks to by default: a daemon (multi-user) or the local store. */
export async function storeKind(nix: Nix): Promise<StoreKind> {
  const result = await nix.run(['store', 'ping'], 'nix store ping');
  const text = `${result.stdout}\n${result.stderr}`;
  return /Store URL:\s*(daemon|unix:)/.test(text) ? 'daemon' : 'local';
}

export interface ConfTarget {
  /** The nix.conf to write. */
  file: string;
  scope: 'user' | 'system';
  /** Why this file: one line for the log and summary. */
  reason: string;
  /** Writing needs sudo, and the daemon must restart to read it. */
  privileged: boolean;
}

/**
 * Picks the file the running Nix reads:
 * - NIX_USER_CONF_FILES set: its first file (Nix reads those instead of ~/.config).
 * - no daemon, or a daemon that trusts this user: the user's nix.conf (a trusted
 *   user's client passes extra-substituters on to the daemon).
 * - a daemon that does not trust this user: the system nix.conf (NIX_CONF_DIR or
 *   /etc/nix), written with sudo, and the daemon restarted. Writing the user file
 *   here is the classic cachix-action trap: the daemon silently ignores it.
 */
export function chooseConfTarget(options: {
  env: NodeJS.ProcessEnv;
  kind: StoreKind;
  trusted: boolean;
  writable?: (path: string) => boolean;
}): ConfTarget {
  const { env, kind, trusted } = options;
  const writable = options.writable ?? canWrite;
  const userFiles = (env.NIX_USER_CONF_FILES ?? '').split(':').filter(Boolean);
  const systemFile = join(env.NIX_CONF_DIR || '/etc/nix', 'nix.conf');
  if (kind === 'daemon' && !trusted) {
    return {
      file: systemFile,
      scope: 'system',
      reason: 'the Nix daemon does not trust this user, so it only reads substituters from the system configuration',
      privileged: !writable(systemFile),
    };
  }
  if (userFiles.length > 0) {
    return { file: userFiles[0], scope: 'user', reason: 'NIX_USER_CONF_FILES names the user configuration', privileged: false };
  }
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return {
    file: join(xdg, 'nix', 'nix.conf'),
    scope: 'user',
    reason: kind === 'daemon' ? 'the Nix daemon trusts this user' : 'Nix uses the local store directly (no daemon)',
    privileged: false,
  };
}

function canWrite(path: string): boolean {
  try {
    accessSync(existsSync(path) ? path : dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `trusted-users` names this user or one of its groups (`@group`), or `*`. */
export function isTrusted(config: NixConfig, user: string, groups: readonly string[]): boolean {
  if (user === 'root') return true;
  return list(config['trusted-users']).some((t) => t === '*' || t === user || (t.startsWith('@') && groups.includes(t.slice(1))));
}

export async function currentUser(): Promise<{ user: string; groups: string[] }> {
  const user = userInfo().username;
  const r = await run('id', ['-Gn']).catch(() => undefined);
  return { user, groups: r && r.code === 0 ? r.stdout.trim().split(/\s+/) : [] };
}

const BEGIN = '# BEGIN vig-os/nix-actions/cachix';
const END = '# END vig-os/nix-actions/cachix';

/** The managed block. Values were validated (no whitespace) before they got here. */
export function renderBlock(settings: CacheSettings, netrcFile?: string): string {
  const lines = [BEGIN];
  if (settings.substituters.length) lines.push(`extra-substituters = ${settings.substituters.join(' ')}`);
  if (settings.publicKeys.length) lines.push(`extra-trusted-public-keys = ${settings.publicKeys.join(' ')}`);
  if (netrcFile) lines.push(`netrc-file = ${netrcFile}`);
  lines.push(END);
  return lines.join('\n') + '\n';
}

/** Replaces our block in `text` (re-runs do not pile up), keeping everything else. */
export function replaceBlock(text: string, block: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start);
  let rest = text;
  if (start >= 0 && end >= 0) rest = text.slice(0, start) + text.slice(end + END.length).replace(/^\n/, '');
  if (rest && !rest.endsWith('\n')) rest += '\n';
  return rest + block;
}

/**
 * Merges our netrc entries into existing netrc text. netrc is a token stream, not
 * lines, so entries are regrouped at each `machine`/`default` token (one per line
 * on output) and those for our hosts replaced.
 */
export function mergeNetrc(existing: string, entries: CacheSettings['netrc']): string {
  const hosts = new Set(entries.map((e) => e.machine));
  const tokens = existing
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .split(/\s+/)
    .filter(Boolean);
  const groups: string[][] = [];
  for (const t of tokens) {
    if (t === 'machine' || t === 'default' || groups.length === 0) groups.push([]);
    groups[groups.length - 1].push(t);
  }
  const kept = groups.filter((g) => !(g[0] === 'machine' && hosts.has(g[1] ?? ''))).map((g) => g.join(' '));
  const ours = entries.map((e) => `machine ${e.machine} password ${e.password}`);
  // `default` must come last in netrc, so ours go before it.
  const defaults = kept.filter((g) => g.startsWith('default'));
  const others = kept.filter((g) => !g.startsWith('default'));
  return [...others, ...ours, ...defaults].join('\n') + '\n';
}

export interface WriteResult {
  target: ConfTarget;
  netrcFile?: string;
  restartedDaemon: boolean;
}

/**
 * Writes the settings to `target` (and a 0600 netrc beside it for private caches),
 * keeping the credentials of whatever netrc Nix used before.
 */
export async function writeCacheConfig(
  settings: CacheSettings,
  target: ConfTarget,
  current: NixConfig,
  options: { platform?: NodeJS.Platform } = {},
): Promise<WriteResult> {
  let netrcFile: string | undefined;
  let netrcText: string | undefined;
  if (settings.netrc.length > 0) {
    netrcFile = join(dirname(target.file), 'netrc');
    const before = typeof current['netrc-file'] === 'string' ? (current['netrc-file'] as string) : '';
    let existing = '';
    for (const f of new Set([before, netrcFile])) {
      if (f && existsSync(f)) {
        try {
          existing += readFileSync(f, 'utf8') + '\n';
        } catch {
          // unreadable (another user's file): we cannot keep its entries, and say nothing secret
        }
      }
    }
    netrcText = mergeNetrc(existing.trim(), settings.netrc);
  }
  const old = existsSync(target.file) ? readFileSync(target.file, 'utf8') : '';
  const conf = replaceBlock(old, renderBlock(settings, netrcFile));
  if (!target.privileged) {
    mkdirSync(dirname(target.file), { recursive: true });
    if (netrcFile && netrcText !== undefined) writeSecretFile(netrcFile, netrcText);
    writeFileSync(target.file, conf);
    return { target, netrcFile, restartedDaemon: false };
  }
  // System file of a multi-user install, not ours to write: sudo, never a shell.
  await sudo(['mkdir', '-p', dirname(target.file)]);
  if (netrcFile && netrcText !== undefined) {
    await sudo(['install', '-m', '0600', '/dev/null', netrcFile]);
    await sudo(['tee', netrcFile], netrcText);
  }
  await sudo(['tee', target.file], conf);
  const restart =
    (options.platform ?? process.platform) === 'darwin'
      ? ['launchctl', 'kickstart', '-k', 'system/org.nixos.nix-daemon']
      : ['systemctl', 'restart', 'nix-daemon'];
  await sudo(restart);
  return { target, netrcFile, restartedDaemon: true };
}

/**
 * Writes a file holding secrets as a NEW 0600 file beside `path`, then renames it
 * over `path`. Writing into the existing file would put the tokens in it under its
 * old mode (an existing file keeps its mode on write) until a chmod, and through
 * any link at `path` into another file; a rename does neither.
 */
function writeSecretFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

async function sudo(args: string[], input?: string): Promise<void> {
  const r = await run('sudo', ['-n', ...args], { input });
  if (r.code !== 0) {
    throw new UserError(`Could not run 'sudo ${args[0]}' to configure the Nix daemon: ${tail(r.stderr, 1)}`, {
      hint: 'Add this user to trusted-users in /etc/nix/nix.conf (install-nix does), or give it passwordless sudo',
    });
  }
}

/**
 * Reads the configuration back through Nix and checks it holds every substituter,
 * key and the netrc file. Returns the problems (empty when Nix sees it all).
 */
export function checkConfig(config: NixConfig, settings: CacheSettings, netrcFile?: string): string[] {
  const problems: string[] = [];
  const subs = new Set(list(config.substituters).map(trimSlash));
  for (const s of settings.substituters) if (!subs.has(trimSlash(s))) problems.push(`substituters lacks ${s}`);
  const keys = new Set(list(config['trusted-public-keys']));
  for (const k of settings.publicKeys) if (!keys.has(k)) problems.push(`trusted-public-keys lacks ${k}`);
  if (netrcFile && config['netrc-file'] !== netrcFile) {
    problems.push(`netrc-file is ${String(config['netrc-file'])}, not ${netrcFile}`);
  }
  return problems;
}

export async function verifyCacheConfig(nix: Nix, settings: CacheSettings, written: WriteResult): Promise<void> {
  const problems = checkConfig(await readNixConfig(nix), settings, written.netrcFile);
  if (problems.length) {
    throw new UserError(
      `Nix does not see the cache settings written to ${written.target.file}: ${problems.join('; ')}`,
      {
        hint: 'Something overrides them: NIX_CONFIG or a later file setting substituters/trusted-public-keys, or NIX_USER_CONF_FILES naming another file. Use extra-substituters there, or drop the override',
      },
    );
  }
}
