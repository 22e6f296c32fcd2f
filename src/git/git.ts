import { UserError } from '../errors.js';
import { silentLog, type Log } from '../log.js';
import { run, tail, type RunResult } from '../process/run.js';

/**
 * git, run with argument arrays in one repository. A token for fetching is handed
 * to git through GIT_CONFIG_* environment variables (an http.extraheader scoped to
 * the server), never on the command line and never in a log line.
 */
export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
  bin?: string;
}

export class GitError extends UserError {
  constructor(what: string, result: RunResult, hint?: string) {
    super(`${what} failed (exit ${result.code}): ${tail(result.stderr, 1).replace(/^(fatal|error):\s*/, '')}`, {
      hint,
      detail: tail(result.stderr, 20),
    });
    this.name = 'GitError';
  }
}

export const SHA_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export class Git {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly bin: string;

  constructor(options: GitOptions) {
    this.cwd = options.cwd;
    this.env = options.env ?? process.env;
    this.log = options.log ?? silentLog;
    this.bin = options.bin ?? 'git';
  }

  /** Runs git; returns the result whatever the exit code. */
  async exec(args: readonly string[], options: { env?: NodeJS.ProcessEnv; redact?: string[] } = {}): Promise<RunResult> {
    this.log.debug(`running git ${args.join(' ')}`);
    return run(this.bin, ['-c', 'core.quotePath=false', ...args], {
      cwd: this.cwd,
      env: { ...this.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      redact: options.redact,
    });
  }

  /** Runs git and returns stdout; a GitError on failure. */
  async out(args: readonly string[], what = `git ${args[0]}`): Promise<string> {
    const r = await this.exec(args);
    if (r.code !== 0) throw new GitError(what, r);
    return r.stdout;
  }

  async isRepository(): Promise<boolean> {
    const r = await this.exec(['rev-parse', '--is-inside-work-tree']).catch(() => undefined);
    return r?.code === 0 && r.stdout.trim() === 'true';
  }

  async topLevel(): Promise<string> {
    return (await this.out(['rev-parse', '--show-toplevel'])).trim();
  }

  async isShallow(): Promise<boolean> {
    return (await this.out(['rev-parse', '--is-shallow-repository'])).trim() === 'true';
  }

  /** The commit a ref names, or undefined when it is not known locally. */
  async resolveCommit(ref: string): Promise<string | undefined> {
    if (ref.startsWith('-')) return undefined;
    const r = await this.exec(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  /**
   * Fetches one commit or ref from `remote` with depth 1 (enough to read files at
   * it on a shallow checkout). Returns the fetched commit.
   */
  async fetchOne(
    remote: string,
    what: string,
    auth: { token?: string; serverUrl?: string } = {},
  ): Promise<string> {
    if (what.startsWith('-')) throw new UserError(`'${what}' is not a ref or commit`, { hint: 'Give a branch, tag or commit SHA' });
    const env: NodeJS.ProcessEnv = {};
    const redact: string[] = [];
    if (auth.token) {
      const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
      const scope = `${(auth.serverUrl ?? 'https://github.com').replace(/\/$/, '')}/`;
      // The empty value first clears the headers configured so far (actions/checkout
      // persists its own extraheader for the same server): two Authorization
      // headers make GitHub answer 400.
      Object.assign(env, authEnv(this.env, `http.${scope}.extraheader`, '', `AUTHORIZATION: basic ${basic}`));
      redact.push(auth.token, basic);
    }
    const r = await this.exec(['fetch', '--no-tags', '--no-recurse-submodules', '--depth=1', '--', remote, what], { env, redact });
    if (r.code !== 0) {
      throw new GitError(`git fetch of ${what} from ${remote}`, r, 'Check that the base exists and that github-token can read the repository');
    }
    return (await this.out(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
  }

  /** The contents of `path` at `commit`, or undefined when the file does not exist there. */
  async readAt(commit: string, path: string): Promise<string | undefined> {
    const r = await this.exec(['cat-file', 'blob', `${commit}:${path.replace(/^\.\//, '')}`]);
    if (r.code === 0) return r.stdout;
    const exists = await this.exec(['cat-file', '-e', `${commit}^{commit}`]);
    if (exists.code !== 0) throw new GitError(`reading ${path} at ${commit}`, r, 'The commit is not in this clone');
    return undefined;
  }

  /** File paths (relative to the repository root) in the tree of `commit`. */
  async filesAt(commit: string): Promise<string[]> {
    return (await this.out(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit], 'git ls-tree'))
      .split('\0')
      .filter(Boolean);
  }

  /** Tracked and untracked (not ignored) files of the working tree, relative to the root. */
  async workingFiles(): Promise<string[]> {
    return (await this.out(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--full-name'], 'git ls-files'))
      .split('\0')
      .filter(Boolean);
  }

  /** Checks `commit` out into a new detached worktree at `dir`. */
  async addWorktree(dir: string, commit: string): Promise<void> {
    await this.out(['worktree', 'add', '--detach', '--force', '--', dir, commit], 'git worktree add');
  }

  async removeWorktree(dir: string): Promise<void> {
    await this.exec(['worktree', 'remove', '--force', '--', dir]);
    await this.exec(['worktree', 'prune']);
  }
}

/**
 * Adds config entries (one per value, in order, for the same key) through
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n (git >= 2.31), keeping any entries the
 * environment already has.
 */
export function authEnv(base: NodeJS.ProcessEnv, key: string, ...values: string[]): NodeJS.ProcessEnv {
  const n = Number(base.GIT_CONFIG_COUNT ?? 0) || 0;
  const out: NodeJS.ProcessEnv = { GIT_CONFIG_COUNT: String(n + values.length) };
  values.forEach((value, i) => {
    out[`GIT_CONFIG_KEY_${n + i}`] = key;
    out[`GIT_CONFIG_VALUE_${n + i}`] = value;
  });
  return out;
}
