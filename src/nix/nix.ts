import { UserError } from '../errors.js';
import { silentLog, type Log } from '../log.js';
import { run, tail, type RunOptions, type RunResult } from '../process/run.js';
import semver from 'semver';

/**
 * Runs the `nix` CLI, aware of its version: Debian's Nix 2.8 and current Nix
 * differ in command names (`show-derivation` vs `derivation show`) and JSON shapes.
 * Every call is an argument array; the experimental features we need are passed
 * per call so a user's nix.conf cannot break us.
 */
export interface NixOptions {
  /** The nix binary (default `nix` on PATH). */
  bin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: Log;
  /** Secrets to redact from Nix's output (e.g. tokens in URLs). */
  redact?: string[];
}

export class NixError extends UserError {
  readonly result: RunResult;
  constructor(what: string, result: RunResult) {
    const last = tail(result.stderr, 20);
    const firstError = last.split('\n').find((l) => l.startsWith('error:')) ?? last.split('\n').pop() ?? '';
    super(`${what} failed (exit ${result.code}): ${firstError.replace(/^error:\s*/, '').trim()}`, {
      detail: last,
    });
    this.name = 'NixError';
    this.result = result;
  }
}

export const BASE_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

export class Nix {
  readonly bin: string;
  readonly version: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly log: Log;
  readonly redact?: string[];

  private constructor(version: string, options: NixOptions) {
    this.bin = options.bin ?? 'nix';
    this.version = version;
    this.env = options.env;
    this.cwd = options.cwd;
    this.log = options.log ?? silentLog;
    this.redact = options.redact;
  }

  /** Finds nix and reads its version; a clear error when it is not installed. */
  static async detect(options: NixOptions = {}): Promise<Nix> {
    const bin = options.bin ?? 'nix';
    let result: RunResult;
    try {
      result = await run(bin, ['--version'], { env: options.env });
    } catch (e) {
      if (e instanceof UserError) {
        throw new UserError(`Nix is not installed ('${bin}' not found)`, {
          hint: 'Add vig-os/nix-actions/install-nix@v1 as an earlier step',
        });
      }
      throw e;
    }
    const version = parseNixVersion(result.stdout);
    if (result.code !== 0 || !version) {
      throw new UserError(`'${bin} --version' did not report a Nix version: ${tail(result.stdout + result.stderr, 2)}`);
    }
    return new Nix(version, { ...options, bin });
  }

  /** True when this Nix is at least `v` (e.g. '2.15.0'). */
  atLeast(v: string): boolean {
    return semver.gte(semver.coerce(this.version) ?? '0.0.0', v);
  }

  /** Runs `nix <args>`; throws NixError with the tail of the log on failure. */
  async run(args: readonly string[], what = `nix ${args[0] ?? ''}`, options: RunOptions = {}): Promise<RunResult> {
    const full = [...BASE_FLAGS, ...args];
    this.log.debug(`running ${this.bin} ${full.join(' ')}`);
    const result = await run(this.bin, full, {
      cwd: this.cwd,
      env: this.env,
      redact: this.redact,
      ...options,
    });
    if (result.code !== 0) throw new NixError(what, result);
    return result;
  }

  async json<T = unknown>(args: readonly string[], what?: string, options?: RunOptions): Promise<T> {
    const result = await this.run(args, what, options);
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      throw new UserError(`${what ?? `nix ${args[0]}`} printed output that is not JSON: ${result.stdout.slice(0, 200)}`);
    }
  }

  /** `nix derivation show` (Nix >= 2.15) or `nix show-derivation` (older). */
  derivationShowCommand(): string[] {
    return this.atLeast('2.15.0') ? ['derivation', 'show'] : ['show-derivation'];
  }
}

export function parseNixVersion(text: string): string | undefined {
  const m = /(\d+\.\d+(?:\.\d+)?)/.exec(text);
  return m ? m[1] : undefined;
}
