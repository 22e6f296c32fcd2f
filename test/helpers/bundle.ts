import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
/** Node 24, the actions' runtime, from the `node` npm package. */
export const NODE24 = join(ROOT, 'node_modules', 'node', 'bin', 'node');

export interface BundleRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  summary: string;
  /** The `::error` / `::warning` / `::notice` lines the step printed. */
  annotations: { level: string; props: Record<string, string>; message: string }[];
  /** The files the runner gave the step, to chain main -> post. */
  files: RunnerFiles;
}

export interface RunnerFiles {
  dir: string;
  output: string;
  summary: string;
  env: string;
  path: string;
  state: string;
  event: string;
}

export function runnerFiles(event: unknown = {}): RunnerFiles {
  const dir = mkdtempSync(join(tmpdir(), 'nix-actions-runner-'));
  const f = {
    dir,
    output: join(dir, 'output'),
    summary: join(dir, 'summary.md'),
    env: join(dir, 'env'),
    path: join(dir, 'path'),
    state: join(dir, 'state'),
    event: join(dir, 'event.json'),
  };
  for (const p of [f.output, f.summary, f.env, f.path, f.state]) writeFileSync(p, '');
  writeFileSync(f.event, JSON.stringify(event));
  return f;
}

/** Parses the runner's file-command format: `name=value` or `name<<DELIM\n...\nDELIM`. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      out[name] = value.join('\n');
    } else {
      const eq = line.indexOf('=');
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

function parseAnnotations(stdout: string): BundleRun['annotations'] {
  const out: BundleRun['annotations'] = [];
  for (const line of stdout.split('\n')) {
    const m = /^::(error|warning|notice)( [^:]*)?::(.*)$/.exec(line);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const kv of (m[2] ?? '').trim().split(',').filter(Boolean)) {
      const eq = kv.indexOf('=');
      props[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    out.push({ level: m[1], props, message: m[3].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%') });
  }
  return out;
}

/**
 * Runs a dist bundle the way the runner does: Node 24, INPUT_* variables, and the
 * GITHUB_* files, then reads back what the step wrote.
 */
export async function runBundle(
  action: string,
  options: {
    entry?: 'index' | 'post';
    inputs?: Record<string, string>;
    env?: NodeJS.ProcessEnv;
    event?: unknown;
    eventName?: string;
    cwd?: string;
    files?: RunnerFiles;
    timeoutMs?: number;
    /** Run as this user and group (as root only), e.g. to test an unprivileged runner user. */
    uid?: number;
    gid?: number;
    /** Node and dist folder to use instead of the checkout's (see copyBundle in bundle-copy.ts). */
    node?: string;
    distDir?: string;
  } = {},
): Promise<BundleRun> {
  const bundle = join(options.distDir ?? join(ROOT, 'dist'), action, `${options.entry ?? 'index'}.js`);
  const node = options.node ?? NODE24;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
  if (!existsSync(node)) throw new Error(`${node} is missing: npm ci installs the node@24 package`);
  const files = options.files ?? runnerFiles(options.event ?? {});
  if (options.event !== undefined && options.files) writeFileSync(files.event, JSON.stringify(options.event));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NIX_CONFIG: process.env.NIX_CONFIG,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STATE: files.state,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: options.eventName ?? 'push',
    GITHUB_REPOSITORY: 'vig-os/example',
    GITHUB_REPOSITORY_OWNER: 'vig-os',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9', // nothing listens: tests that need the API pass their own
    GITHUB_RUN_ID: '1',
    GITHUB_WORKSPACE: options.cwd ?? files.dir,
    RUNNER_TEMP: files.dir,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    ...options.env,
  };
  // Saved state reaches the post step as STATE_<name>, as the runner does it.
  if (options.entry === 'post') {
    for (const [k, v] of Object.entries(parseFileCommands(readFileSync(files.state, 'utf8')))) env[`STATE_${k}`] = v;
  }
  for (const [k, v] of Object.entries(options.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const child = spawn(node, [bundle], { cwd: options.cwd ?? files.dir, env, stdio: ['ignore', 'pipe', 'pipe'], uid: options.uid, gid: options.gid });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c.toString()));
  child.stderr.on('data', (c) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110000);
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
  clearTimeout(timer);
  const read = (p: string) => readFileSync(p, 'utf8');
  return {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(read(files.output)),
    state: parseFileCommands(read(files.state)),
    env: parseFileCommands(read(files.env)),
    path: read(files.path).split('\n').filter(Boolean),
    summary: read(files.summary),
    annotations: parseAnnotations(stdout),
    files,
  };
}
