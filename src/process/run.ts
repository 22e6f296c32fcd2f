import { spawn } from 'node:child_process';
import { UserError } from '../errors.js';

/**
 * Runs an external program with an argument array: never through a shell, so no
 * input can be interpreted as shell syntax. Output is collected (bounded) and can
 * also be streamed line by line to a callback, e.g. into a log group.
 */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Called with each complete line of stderr (Nix writes its build log there). */
  onStderrLine?: (line: string) => void;
  onStdoutLine?: (line: string) => void;
  /** Kill the process after this many milliseconds. */
  timeoutMs?: number;
  /** Keep at most this many bytes of each stream (the tail). Default 64 MiB. */
  maxBuffer?: number;
  /** Strings to replace by *** in everything returned or streamed (secrets). */
  redact?: string[];
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function redact(text: string, secrets: string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      // With a time limit the child leads its own process group, so that a timeout kills
      // its children too: a grandchild holding our pipes open must not make us hang.
      detached: Boolean(options.timeoutMs),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    const lineSplitter = (cb?: (line: string) => void) => {
      let rest = '';
      return {
        push(chunk: Buffer) {
          if (!cb) return;
          rest += chunk.toString('utf8');
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) cb(redact(l, options.redact));
        },
        end() {
          if (cb && rest) cb(redact(rest, options.redact));
        },
      };
    };
    const outLines = lineSplitter(options.onStdoutLine);
    const errLines = lineSplitter(options.onStderrLine);
    const keep = (arr: Buffer[], chunk: Buffer, len: number): number => {
      arr.push(chunk);
      len += chunk.length;
      while (len > maxBuffer && arr.length > 1) len -= arr.shift()!.length;
      return len;
    };
    child.stdout.on('data', (c: Buffer) => {
      outLen = keep(out, c, outLen);
      outLines.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      errLen = keep(err, c, errLen);
      errLines.push(c);
    });
    let settled = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
          // If something outside the group still holds the pipes, stop waiting for them.
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            finish(-1, 'SIGKILL');
          }, 2000).unref();
        }, options.timeoutMs)
      : undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(new UserError(`'${command}' was not found on PATH`, { hint: 'Install it, or run install-nix first' }));
      } else reject(e);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      outLines.end();
      errLines.end();
      resolve({
        code: code ?? -1,
        signal,
        stdout: redact(Buffer.concat(out).toString('utf8'), options.redact),
        stderr: redact(Buffer.concat(err).toString('utf8'), options.redact),
        timedOut,
      });
    };
    child.on('close', finish);
    child.stdin.on('error', () => {}); // a program that exits without reading its input
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** The last `n` non-empty lines of a program's output, for one-line errors with context. */
export function tail(text: string, n = 20): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
