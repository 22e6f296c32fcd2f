#!/usr/bin/env node
// `npm run demo`: the main job of the release pipeline, run locally on the example
// flake (examples/devcontainer) through the SAME dist bundles the workflows use.
// Each action runs as the runner runs it: Node 24, INPUT_* variables, the
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_PATH / GITHUB_STATE /
// GITHUB_EVENT_PATH files, and what one step exports reaches the next. The job
// summaries are printed to the terminal.
//
//   node scripts/demo.mjs [--registry HOST[:PORT]/REPO] [--flake DIR] [--work DIR]
//                         [--json FILE] [--verbose] [--no-color]
//
// Exit code 0 when every step ran and passed; 1 when a step failed; 2 on bad usage
// or a missing prerequisite. A step that cannot run here is reported as SKIPPED
// with the reason, never as passed.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NODE24 = join(ROOT, 'node_modules', 'node', 'bin', 'node');

// ---------------------------------------------------------------- arguments

function usage(message) {
  if (message) console.error(`demo: ${message}`);
  console.error(`usage: npm run demo -- [--registry HOST[:PORT]/REPOSITORY] [--flake DIR] [--work DIR] [--json FILE] [--verbose] [--no-color]

  --registry   also publish to this registry (plain HTTP is used only for 127.0.0.1/localhost);
               without it the image is published to an OCI layout directory when the
               publish action supports one, and the step is skipped (and says why) when not
  --flake      the flake to run on (default: examples/devcontainer); it must have .#devcontainer
  --work       keep everything in this directory (default: a new temporary directory)
  --json       write the steps' outputs and results to this JSON file
  --verbose    show the actions' full logs, not only their summaries`);
  process.exit(2);
}

export function parseArgs(argv) {
  const opts = { flake: join(ROOT, 'examples', 'devcontainer'), verbose: false, color: process.stdout.isTTY && !process.env.NO_COLOR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--registry') opts.registry = value();
    else if (a === '--flake') opts.flake = resolve(value());
    else if (a === '--work') opts.work = resolve(value());
    else if (a === '--json') opts.json = resolve(value());
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--no-color') opts.color = false;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  if (opts.registry !== undefined) {
    const m = /^([A-Za-z0-9.-]+(?::\d{1,5})?|\[[0-9a-fA-F:]+\](?::\d{1,5})?)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)$/.exec(opts.registry);
    if (!m) usage(`--registry '${opts.registry}' is not HOST[:PORT]/REPOSITORY (lower-case repository, e.g. 127.0.0.1:5000/demo/devcontainer)`);
    opts.registryHost = m[1];
    opts.repository = m[2];
  }
  return opts;
}

// ---------------------------------------------------------------- terminal output

let C = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
function useColor(on) {
  const wrap = (a, b) => (s) => `\x1b[${a}m${s}\x1b[${b}m`;
  C = on
    ? { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) }
    : C;
}
const out = (s = '') => process.stdout.write(`${s}\n`);
const indent = (s, n = 2) => s.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');

/** Job-summary Markdown, rendered for a terminal: headings, aligned tables, no HTML. */
export function renderMarkdown(md) {
  const inline = (s) =>
    s
      .replace(/<br\s*\/?>/gi, ' ')
      .replace(/<\/?(details|summary|sub|sup|b|i|strong|em|code|p|div|span)[^>]*>/gi, '')
      .replace(/\*\*([^*]+)\*\*/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>')
      .replace(/\\([|*_[\]\\`])/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const lines = md.replace(/<!--[\s\S]*?-->/g, '').split('\n');
  const result = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*\|/.test(line)) {
      const rows = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(lines[i]);
      i--;
      const cells = rows
        .filter((r) => !/^\s*\|[\s:|-]+\|\s*$/.test(r))
        .map((r) =>
          r
            .trim()
            .replace(/^\||\|$/g, '')
            .split(/(?<!\\)\|/)
            .map((c) => inline(c.trim())),
        );
      const widths = [];
      for (const row of cells) row.forEach((c, k) => (widths[k] = Math.max(widths[k] ?? 0, [...c].length)));
      cells.forEach((row, r) => {
        const text = row.map((c, k) => c + ' '.repeat(widths[k] - [...c].length)).join('  ').trimEnd();
        result.push(r === 0 && cells.length > 1 ? C.bold(text) : text);
        if (r === 0 && cells.length > 1) result.push(C.dim(widths.map((w) => '─'.repeat(w)).join('  ')));
      });
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      result.push(C.bold(C.cyan(inline(h[2]))));
      continue;
    }
    result.push(inline(line.replace(/^\s*[-*] /, '• ')));
  }
  return result.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

// ---------------------------------------------------------------- the runner's contract

function parseFileCommands(text) {
  const res = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]);
      res[heredoc[1]] = value.join('\n');
    } else {
      const eq = line.indexOf('=');
      res[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return res;
}

/**
 * A job: a workspace and the environment the runner keeps between steps
 * (GITHUB_ENV exports, GITHUB_PATH additions), like one `runs-on` job.
 */
export function newJob({ workspace, sha, ref = 'refs/heads/main', event = {}, eventName = 'push', temp }) {
  const runnerTemp = temp ?? mkdtempSync(join(tmpdir(), 'nix-actions-demo-runner-'));
  mkdirSync(runnerTemp, { recursive: true });
  const eventPath = join(runnerTemp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event));
  return {
    workspace,
    runnerTemp,
    exported: {},
    paths: [],
    steps: 0,
    baseEnv: {
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SHA: sha,
      GITHUB_REF: ref,
      GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
      GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      GITHUB_REPOSITORY: 'vig-os/example-devcontainer',
      GITHUB_REPOSITORY_OWNER: 'vig-os',
      GITHUB_ACTOR: 'demo',
      GITHUB_SERVER_URL: 'https://github.com',
      // Nothing listens here: the demo never talks to GitHub.
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_RUN_ID: '1',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW: 'demo',
      GITHUB_JOB: 'release',
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: runnerTemp,
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    },
  };
}

/**
 * The example builds with the host's /bin/sh and tools (no nixpkgs), so a build in
 * the sandbox (archive's verify rebuilds in a fresh chroot store, always sandboxed)
 * must see them: the demo adds the host's tool directories to extra-sandbox-paths.
 * A flake built from nixpkgs needs nothing of the kind.
 */
export function nixConfig(base = process.env.NIX_CONFIG) {
  const host = ['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ');
  return [base, `extra-sandbox-paths = ${host}`].filter(Boolean).join('\n');
}

/**
 * Runs dist/<action>/index.js as the runner does and returns what it wrote.
 * `onLine` sees each line of its stdout (workflow commands included).
 */
export async function runStep(job, action, inputs = {}, { onLine = () => {}, env: extraEnv = {} } = {}) {
  const bundle = join(ROOT, 'dist', action, 'index.js');
  if (!existsSync(bundle)) throw new Error(`${relative(ROOT, bundle)} is missing: run npm run build`);
  const dir = join(job.runnerTemp, `_step${++job.steps}-${action}`);
  mkdirSync(dir, { recursive: true });
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary.md', GITHUB_ENV: 'env', GITHUB_PATH: 'path', GITHUB_STATE: 'state' };
  const fileEnv = {};
  for (const [k, name] of Object.entries(files)) {
    fileEnv[k] = join(dir, name);
    writeFileSync(fileEnv[k], '');
  }
  const env = {
    PATH: [...job.paths, process.env.PATH].join(':'),
    HOME: process.env.HOME,
    NIX_CONFIG: nixConfig(),
    LANG: process.env.LANG,
    ...job.baseEnv,
    ...job.exported,
    ...fileEnv,
    GITHUB_ACTION: `${action}`,
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const child = spawn(NODE24, [bundle], { cwd: job.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let rest = '';
  child.stdout.on('data', (c) => {
    stdout += c;
    rest += c;
    const lines = rest.split('\n');
    rest = lines.pop();
    for (const l of lines) onLine(l);
  });
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
  if (rest) onLine(rest);
  const read = (k) => readFileSync(fileEnv[k], 'utf8');
  const exported = parseFileCommands(read('GITHUB_ENV'));
  Object.assign(job.exported, exported);
  job.paths.unshift(...read('GITHUB_PATH').split('\n').filter(Boolean).reverse());
  const annotations = [];
  for (const line of stdout.split('\n')) {
    const m = /^::(error|warning|notice)( [^:]*)?::(.*)$/.exec(line);
    if (m) annotations.push({ level: m[1], message: m[3].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%') });
  }
  return { action, code, stdout, stderr, outputs: parseFileCommands(read('GITHUB_OUTPUT')), exported, summary: read('GITHUB_STEP_SUMMARY'), annotations };
}

/** Shows an action's log the way a person wants it in a terminal. */
function lineWriter(verbose) {
  let depth = 0;
  // Between ::stop-commands::TOKEN and ::TOKEN:: nothing is a workflow command (the
  // actions quote Nix's log that way): those lines are plain log text.
  let stopped;
  return (line) => {
    if (stopped) {
      if (line === `::${stopped}::`) stopped = undefined;
      else if (verbose) out(indent(C.dim(line), depth ? 6 : 4));
      return;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) {
      stopped = stop[1];
      return;
    }
    const cmd = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line);
    const text = (s) => s.replace(/%0A/g, '\n').replace(/%0D/g, '').replace(/%25/g, '%');
    if (cmd) {
      const [, name, , msg] = cmd;
      if (name === 'group') {
        depth++;
        if (verbose) out(indent(C.dim(`▸ ${text(msg)}`), 4));
      } else if (name === 'endgroup') depth = Math.max(0, depth - 1);
      else if (name === 'error') out(indent(C.red(`✖ ${text(msg)}`), 4));
      else if (name === 'warning') out(indent(C.yellow(`! ${text(msg)}`), 4));
      else if (name === 'notice') out(indent(C.cyan(`• ${text(msg)}`), 4));
      else if (name === 'debug' && verbose) out(indent(C.dim(text(msg)), 6));
      // add-mask, save-state, set-output and the like are not for people.
      return;
    }
    if (verbose) out(indent(C.dim(line), depth ? 6 : 4));
  };
}

// ---------------------------------------------------------------- the demo

function git(cwd, ...args) {
  return gitAt(cwd, undefined, ...args);
}

/** git with a fixed identity and, for commits, a fixed date (so every demo run publishes the same digest). */
function gitAt(cwd, date, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
      GIT_AUTHOR_NAME: 'Demo',
      GIT_AUTHOR_EMAIL: 'demo@example.invalid',
      GIT_COMMITTER_NAME: 'Demo',
      GIT_COMMITTER_EMAIL: 'demo@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
    },
  }).trim();
}

function have(bin) {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function preflight(opts) {
  const missing = [];
  if (!existsSync(NODE24)) missing.push('Node 24 (node_modules/node/bin/node): run npm ci');
  for (const [bin, pkg] of [
    ['nix', 'nix-bin'],
    ['git', 'git'],
  ]) {
    if (!have(bin)) missing.push(`${bin}: apt-get install ${pkg} (or bash .ci/setup)`);
  }
  for (const a of ['build', 'sbom', 'archive', 'flake-diff', 'sbom-diff', 'publish']) {
    if (!existsSync(join(ROOT, 'dist', a, 'index.js'))) missing.push(`dist/${a}/index.js: run npm run build`);
  }
  if (!existsSync(join(opts.flake, 'flake.nix'))) missing.push(`${opts.flake}/flake.nix: --flake must name a flake directory`);
  if (missing.length) {
    console.error('demo: cannot start, missing:');
    for (const m of missing) console.error(`  - ${m}`);
    process.exit(2);
  }
}

/**
 * A git repository holding the flake with two commits, so that flake-diff and the
 * SBOM diff have a "previous commit" (the base of a pull request) to compare with.
 * The previous commit is the same flake with devtools one version older (in the
 * example flake), which is the kind of change a reviewer has to assess.
 */
export function makeRepo(flakeDir, dir) {
  const repo = join(dir, 'repo');
  rmSync(repo, { recursive: true, force: true });
  cpSync(flakeDir, repo, { recursive: true, filter: (src) => !/\/(result|\.git)$/.test(src) });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'commit.gpgsign', 'false');
  const flakeNix = join(repo, 'flake.nix');
  const current = readFileSync(flakeNix, 'utf8');
  const older = current.replace(/(pname = "devtools";\s*version = ")0\.4\.0"/, '$10.3.0"');
  const changes = older !== current;
  if (changes) writeFileSync(flakeNix, older);
  git(repo, 'add', '-A');
  gitAt(repo, '2025-01-06T09:00:00Z', 'commit', '-q', '-m', 'devcontainer: previous release');
  const base = git(repo, 'rev-parse', 'HEAD');
  if (changes) writeFileSync(flakeNix, current);
  git(repo, 'add', '-A');
  gitAt(repo, '2025-01-13T09:00:00Z', 'commit', '-q', '--allow-empty', '-m', changes ? 'devtools: 0.3.0 -> 0.4.0' : 'devcontainer: this release');
  return { repo, base, head: git(repo, 'rev-parse', 'HEAD'), changed: changes };
}

/**
 * Whether the publish bundle can write to an OCI layout directory, read from its
 * action.yml (the contract), so the demo never guesses.
 */
function publishLayoutInput() {
  const yml = readFileSync(join(ROOT, 'publish', 'action.yml'), 'utf8');
  return /^ {2}oci-layout:\s*$/m.test(yml) ? 'oci-layout' : undefined;
}

/** A free TCP port on the loopback interface. */
async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * A throwaway docker-registry (Debian's distribution v2, installed by .ci/setup) on
 * a free loopback port, storing into the work directory. Returns undefined, with
 * the reason, when it cannot run here.
 */
export async function startLocalRegistry(work) {
  if (!have('docker-registry')) return { why: 'docker-registry is not installed (apt-get install docker-registry, or bash .ci/setup)' };
  const port = await freePort();
  const dir = join(work, 'registry');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const url = `http://127.0.0.1:${port}/v2/`;
  for (const deadline = Date.now() + 15000; ; ) {
    if (child.exitCode !== null) return { why: `docker-registry exited: ${stderr.trim().split('\n').pop()}` };
    try {
      if ((await fetch(url)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      return { why: `docker-registry did not answer on ${url} within 15 s` };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', r);
        child.kill('SIGTERM');
      }),
  };
}

/** The published reference, saying so when it was on the demo's own (now stopped) registry. */
function publishedRef(r) {
  const ref = r?.outputs?.['image-ref'];
  return ref && r.throwaway ? `${ref} (on the demo's throwaway registry, now stopped)` : ref;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  useColor(opts.color);
  preflight(opts);
  const work = opts.work ?? mkdtempSync(join(tmpdir(), 'nix-actions-demo-'));
  mkdirSync(work, { recursive: true });
  const results = [];
  const started = Date.now();

  out(C.bold('nix-actions demo: the release pipeline, locally, through the same bundles as in CI'));
  out(C.dim(`flake: ${relative(process.cwd(), opts.flake) || '.'}   work directory: ${work}`));
  const { repo, base, head, changed } = makeRepo(opts.flake, work);
  out(C.dim(`a git repository of the flake with two commits: ${base.slice(0, 7)} (previous) and ${head.slice(0, 7)} (this release)`));
  if (!changed) out(C.dim('(the flake has no devtools 0.4.0 to downgrade, so both commits are the same flake)'));
  out(C.dim('each step is an action bundle from dist/, run as the GitHub runner runs it; below each one, its job summary and step outputs'));

  const plan = [
    ['build', 'build the image with nix build, list every package version'],
    ['sbom', 'write the CycloneDX and SPDX SBOMs of what ships in the image'],
    ['archive', 'archive what an offline rebuild needs, and prove it by rebuilding'],
    ['flake-diff', 'explain the flake.lock change against the previous commit'],
    ['sbom-diff', 'compare the packages with the previous commit (what the PR check shows)'],
    ['publish', opts.registry ? `push the image to ${opts.registry}` : 'publish the image to an OCI layout directory'],
  ];
  const total = plan.length;
  let n = 0;
  const job = newJob({ workspace: repo, sha: head, event: { before: base, after: head, ref: 'refs/heads/main' }, temp: join(work, 'runner') });

  const step = async (action, inputs, { env } = {}) => {
    const [, what] = plan.find((p) => p[0] === action);
    n++;
    out();
    out(C.bold(`━━ ${n}/${total} ${action} ━━ `) + C.dim(what));
    const t0 = Date.now();
    const r = await runStep(job, action, inputs, { onLine: lineWriter(opts.verbose), env });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.summary.trim()) out(indent(renderMarkdown(r.summary)));
    const outputs = Object.entries(r.outputs);
    if (outputs.length) {
      out(C.dim('  step outputs:'));
      const w = Math.max(...outputs.map(([k]) => k.length));
      for (const [k, v] of outputs) out(C.dim(`    ${k.padEnd(w)}  ${String(v).split('\n')[0]}${String(v).includes('\n') ? ' …' : ''}`));
    }
    if (r.code === 0) out(C.green(`  ✔ ${action} passed`) + C.dim(` (${secs} s)`));
    else {
      out(C.red(`  ✖ ${action} failed`) + C.dim(` (exit code ${r.code}, ${secs} s)`));
      if (r.stderr.trim()) out(indent(C.dim(r.stderr.trim().split('\n').slice(-15).join('\n')), 4));
    }
    results.push({ action, status: r.code === 0 ? 'passed' : 'failed', seconds: Number(secs), outputs: r.outputs, annotations: r.annotations });
    return r;
  };
  const skip = (action, why) => {
    const [, what] = plan.find((p) => p[0] === action);
    n++;
    out();
    out(C.bold(`━━ ${n}/${total} ${action} ━━ `) + C.dim(what));
    out(C.yellow(`  ⤼ SKIPPED: ${why}`));
    results.push({ action, status: 'skipped', reason: why });
  };

  const build = await step('build', { installable: '.#devcontainer' });
  if (build.code === 0) {
    await step('sbom', { 'output-dir': 'sbom', upload: 'false' });
    await step('archive', { installable: '.#devcontainer', path: 'nix-archive', upload: 'false', verify: 'true' });
  } else {
    skip('sbom', 'the build failed: there is no image to describe');
    skip('archive', 'the build failed');
  }
  await step('flake-diff', { base, comment: 'never', 'fail-on': 'violation', installable: '.#devcontainer' });
  if (!existsSync(join(repo, 'flake.lock'))) {
    out(C.dim('  (this flake has no inputs, so it has no flake.lock; in a repository with inputs flake-diff explains each one that moved)'));
  }

  // The previous commit's SBOM, built quietly in a second job, as the PR check does.
  const sbom = results.find((r) => r.action === 'sbom');
  if (sbom?.status === 'passed') {
    const baseTree = join(work, 'base');
    rmSync(baseTree, { recursive: true, force: true });
    git(repo, 'worktree', 'prune');
    git(repo, 'worktree', 'add', '-q', '--detach', baseTree, base);
    const baseJob = newJob({ workspace: baseTree, sha: base, temp: join(work, 'runner-base') });
    out();
    out(C.dim(`  (building the previous commit ${base.slice(0, 7)} and its SBOM for the comparison…)`));
    const b = await runStep(baseJob, 'build', { installable: '.#devcontainer' });
    const s = b.code === 0 ? await runStep(baseJob, 'sbom', { 'output-dir': 'sbom', upload: 'false', format: 'cyclonedx-json' }) : b;
    if (s.code === 0 && s.outputs.cyclonedx) {
      await step('sbom-diff', { base: s.outputs.cyclonedx, head: sbom.outputs.cyclonedx, report: 'sbom-diff.json' });
    } else skip('sbom-diff', `the previous commit did not build or has no SBOM (exit code ${s.code}): ${s.annotations.map((a) => a.message).join('; ')}`);
  } else skip('sbom-diff', 'there is no SBOM of this release to compare');

  const tags = 'latest\n{{sha:7}}';
  const publishTo = (host, repository) => {
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
    return step('publish', {
      registry: host,
      repository,
      tags,
      username: process.env.DEMO_REGISTRY_USERNAME ?? '',
      password: process.env.DEMO_REGISTRY_PASSWORD ?? '',
      'plain-http': loopback ? 'true' : 'false',
    });
  };
  if (build.code !== 0) skip('publish', 'the build failed: there is no image to publish');
  else if (opts.registry) await publishTo(opts.registryHost, opts.repository);
  else if (publishLayoutInput()) await step('publish', { [publishLayoutInput()]: join(work, 'oci-layout'), tags });
  else {
    // publish speaks the registry protocol only: publish to a throwaway registry on
    // 127.0.0.1, then copy the image into an OCI layout directory with skopeo (an
    // independent client), so what was published is also checked.
    const local = await startLocalRegistry(work);
    if (!local.host) skip('publish', `the publish action writes to registries only, and no local registry could be started: ${local.why}. Give one with --registry HOST:PORT/REPOSITORY`);
    else {
      try {
        plan.find((p) => p[0] === 'publish')[1] = `publish to a throwaway registry on ${local.host}, then copy it into an OCI layout directory`;
        const r = await publishTo(local.host, 'demo/devcontainer');
        if (r.code === 0) {
          const layout = join(work, 'oci-layout');
          if (!have('skopeo')) out(C.yellow('  ⤼ not copied into an OCI layout directory: skopeo is not installed (apt-get install skopeo)'));
          else {
            rmSync(layout, { recursive: true, force: true });
            execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${r.outputs['image-ref']}`, `oci:${layout}:latest`]);
            const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
            out(C.green(`  ✔ copied into the OCI layout ${layout} with skopeo`) + C.dim(` (manifest ${index.manifests[0].digest})`));
            results[results.length - 1].outputs['oci-layout'] = layout;
            results[results.length - 1].throwaway = true;
          }
        }
      } finally {
        await local.stop();
      }
    }
  }

  // ------------------------------------------------------------ recap
  out();
  out(C.bold('━━ recap ━━'));
  const w = Math.max(...results.map((r) => r.action.length));
  for (const r of results) {
    const mark = r.status === 'passed' ? C.green('✔ passed ') : r.status === 'failed' ? C.red('✖ failed ') : C.yellow('⤼ skipped');
    out(`  ${r.action.padEnd(w)}  ${mark}${r.seconds !== undefined ? C.dim(`  ${r.seconds.toFixed(1)} s`) : ''}`);
  }
  const files = [
    ['image', results.find((r) => r.action === 'build')?.outputs?.image],
    ['package versions', results.find((r) => r.action === 'build')?.outputs?.versions],
    ['CycloneDX SBOM', results.find((r) => r.action === 'sbom')?.outputs?.cyclonedx],
    ['SPDX SBOM', results.find((r) => r.action === 'sbom')?.outputs?.spdx],
    ['archive manifest', results.find((r) => r.action === 'archive')?.outputs?.manifest],
    ['flake.lock report', results.find((r) => r.action === 'flake-diff')?.outputs?.report],
    ['SBOM diff', results.find((r) => r.action === 'sbom-diff')?.outputs?.report],
    ['published', publishedRef(results.find((r) => r.action === 'publish'))],
    ['OCI layout', results.find((r) => r.action === 'publish')?.outputs?.['oci-layout']],
  ].filter(([, v]) => v);
  if (files.length) {
    out();
    out(C.bold('  what the run left behind (the records docs/regulated.md explains):'));
    const fw = Math.max(...files.map(([k]) => k.length));
    for (const [k, v] of files) out(`    ${k.padEnd(fw)}  ${v}`);
  }
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  out();
  out(
    (failed ? C.red : C.green)(
      `${results.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ) + C.dim(`   (everything is in ${work})`),
  );
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ work, repo, base, head, results }, null, 2)}\n`);
  process.exitCode = failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
