import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flakeDiff, type FlakeDiffOptions } from '../../src/flake/check.js';
import { DEFAULT_RULES } from '../../src/flake/policy.js';
import { chooseBase } from '../../src/git/base.js';
import { recordingLog } from '../../src/log.js';
import { UserError } from '../../src/errors.js';
import { makeFlakePr, shallowClone, type FlakePr } from '../helpers/flake-repo.js';
import { commitAll, git, initRepo } from '../helpers/git.js';
import { startGitHttp } from '../helpers/git-http.js';
import { flakeNix, nixEnv, salt } from '../helpers/nix.js';

/** The flake-diff core on real git repositories whose locks real Nix wrote. */
const NOW = new Date();

function options(cwd: string, over: Partial<FlakeDiffOptions> = {}): FlakeDiffOptions {
  return {
    cwd,
    lockFiles: ['flake.lock'],
    base: { source: 'none', reason: 'none' },
    log: recordingLog(),
    env: nixEnv(),
    policy: {
      rules: DEFAULT_RULES,
      maxAgeDays: 30,
      nixpkgsInputs: ['nixpkgs'],
      supportedBranches: [],
      allowedHosts: [],
      allowedOwners: [],
      now: NOW,
    },
    ...over,
  };
}

const lineOf = (text: string, re: RegExp) => text.split('\n').findIndex((l) => re.test(l)) + 1;

describe('flake-diff on a pull request made with real Nix', () => {
  let pr: FlakePr;
  beforeAll(() => {
    pr = makeFlakePr();
  });

  it('fetches the base commit into a shallow clone and diffs by input path', async () => {
    const clone = shallowClone(pr);
    expect(git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(() => git(clone, 'cat-file', '-e', `${pr.baseSha}^{commit}`)).toThrow();
    const log = recordingLog();
    const event = { pull_request: { number: 7, base: { sha: pr.baseSha, ref: 'main' } } };
    const report = await flakeDiff(options(clone, { log, base: chooseBase({ eventName: 'pull_request', event }), token: 'tok-secret-1' }));
    expect(report.base).toEqual({ ref: pr.baseSha, sha: pr.baseSha, source: 'pull-request', fetched: true });
    expect(report.head.sha).toBe(pr.headSha);
    expect(log.lines.map((l) => l.message).join('\n')).toMatch(/not in this shallow clone: fetching just that commit from origin with depth 1/);
    expect(log.lines.map((l) => l.message).join('\n')).not.toContain('tok-secret-1');
    // the clone is still shallow: one commit was fetched, not the history
    expect(git(clone, 'cat-file', '-t', pr.baseSha)).toBe('commit');
    expect(git(clone, 'rev-list', '--count', 'HEAD')).toBe('1');
    const [file] = report.files;
    expect(file.status).toBe('compared');
    expect(file.changes.map((c) => `${c.input}: ${c.change}`)).toEqual([
      'dep: updated',
      'dep/nixpkgs: follows-changed',
      'extra: added',
      'old: removed',
    ]);
    const dep = file.changes[0];
    expect(dep.old!.locked!.rev).toBe(pr.depRevs[0]);
    expect(dep.new!.locked!.rev).toBe(pr.depRevs[1]);
    expect(dep.link).toBeUndefined();
    expect(dep.new!.locked!.url).toBe(`git+file://${pr.deps.dep}?ref=main&rev=${pr.depRevs[1]}`);
    expect(file.changes[1].new!.follows).toBe('nixpkgs');
    expect(report.changed).toBe(true);
  });

  it('checks the policy on the head lock, with the line of each node', async () => {
    const clone = shallowClone(pr);
    const report = await flakeDiff(options(clone, { base: { ref: pr.baseSha, source: 'input', reason: 'x' } }));
    const text = readFileSync(join(clone, 'flake.lock'), 'utf8');
    const v = report.files[0].violations;
    expect(v.map((x) => `${x.node} ${x.rule}`)).toEqual([
      'dep no-path',
      'extra no-path',
      'nixpkgs no-path',
      'nixpkgs max-age',
      'nixpkgs supported-branch',
      'nixpkgs nixos-owner',
    ]);
    for (const x of v) expect(x.line).toBe(lineOf(text, new RegExp(`^    "${x.node}": \\{`)));
    expect(v.find((x) => x.rule === 'max-age')!.message).toMatch(/^Input 'nixpkgs' is \d+ days old \(limit 30\)/);
    expect(report.violations).toBe(6);
  });

  it('a base given as a branch name is fetched by name', async () => {
    const clone = shallowClone(pr);
    const report = await flakeDiff(options(clone, { base: chooseBase({ eventName: 'workflow_dispatch', event: {} }, 'main') }));
    expect(report.base!.sha).toBe(pr.baseSha);
    expect(report.base!.fetched).toBe(true);
  });

  it('lists package version changes between the closures at base and HEAD (worktree)', async () => {
    const clone = shallowClone(pr);
    const log = recordingLog();
    const report = await flakeDiff(
      options(clone, { log, installable: '.#default', base: { ref: pr.baseSha, source: 'input', reason: 'x' } }),
    );
    expect(report.packages!.changes).toEqual([{ name: 'libfoo', change: 'changed', old: ['1.0'], new: ['1.1'] }]);
    expect(report.packages!.base[0]).not.toBe(report.packages!.head[0]);
    // the temporary worktree is gone
    expect(git(clone, 'worktree', 'list').split('\n')).toHaveLength(1);
    for (const p of [...report.packages!.base, ...report.packages!.head]) {
      execFileSync('nix-store', ['--delete', p], { env: nixEnv(), stdio: 'ignore' });
    }
  });

  it('a base that does not exist is a clear error naming it', async () => {
    const clone = shallowClone(pr);
    const err = await flakeDiff(options(clone, { base: { ref: 'no-such-branch', source: 'input', reason: 'x' } })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/^git fetch of no-such-branch from origin failed .*no-such-branch.*Check that the base exists/);
  });

  it.each(['--upload-pack=touch /tmp/x', 'a b', 'main\n::error::x', 'a..b', 'HEAD~1;rm'])('a hostile base %j is refused', async (bad) => {
    const clone = shallowClone(pr);
    const err = await flakeDiff(options(clone, { base: { ref: bad, source: 'input', reason: 'x' } })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/^Input 'base': '.*' is not a branch, tag or commit SHA$/);
    expect(err.oneLine).not.toContain('\n');
  });
});

describe('the installable at the base', () => {
  let repo: string;
  let without: string;
  let broken: string;
  const s = salt();
  const flake = (pkgs: string) => {
    writeFileSync(join(repo, 'flake.nix'), flakeNix(`{ packages.\${system} = { ${pkgs} }; }`));
    return commitAll(repo, 'step');
  };
  const built: string[] = [];
  beforeAll(() => {
    repo = initRepo(mkdtempSync(join(tmpdir(), 'flake-diff-adds-')));
    const other = `other = mk "other-1.0" "echo ${s} > $out";`;
    without = flake(other);
    broken = flake(`${other} default = mk "newpkg-0.9" "echo ${s}; exit 3";`);
    // HEAD: the build log tries to issue a workflow command
    flake(`${other} default = mk "newpkg-1.0" "echo '::warning::from the build log'; echo ${s} > $out";`);
  });
  afterAll(() => {
    for (const p of built) execFileSync('nix-store', ['--delete', p], { env: nixEnv(), stdio: 'ignore' });
  });

  it('a pull request that adds it reports every package as added, with a notice', async () => {
    const log = recordingLog();
    const report = await flakeDiff(
      options(repo, { log, lockFiles: ['flake.lock'], installable: '.#default', base: { ref: without, source: 'input', reason: 'x' } }),
    );
    built.push(...report.packages!.head);
    expect(report.packages).toMatchObject({ base: [], baseMissing: expect.stringMatching(/does not provide attribute .*default/) });
    expect(report.packages!.head).toHaveLength(1);
    expect(report.packages!.changes).toEqual([{ name: 'newpkg', change: 'added', old: [], new: ['1.0'] }]);
    expect(report.changed).toBe(true);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'notice',
        message: expect.stringMatching(new RegExp(`^\\.#default does not evaluate at the base ${without.slice(0, 12)} \\(.*\\): every package at HEAD is reported as added$`)),
      }),
    );
    // the build log streams with workflow commands stopped, resumed after it
    const info = log.lines.filter((l) => l.level === 'info').map((l) => l.message);
    const at = info.findIndex((l) => l.includes('::warning::from the build log'));
    expect(at).toBeGreaterThan(-1);
    const stops = info.flatMap((l, i) => (/^::stop-commands::[0-9a-f]{32}$/.test(l) ? [i] : []));
    const stop = stops.filter((i) => i < at).pop()!;
    expect(stop).toBeDefined();
    const token = info[stop].slice('::stop-commands::'.length);
    expect(info.indexOf(`::${token}::`)).toBeGreaterThan(at);
  });

  it('fails when it does not evaluate at HEAD, or when its build fails at the base', async () => {
    const missing = await flakeDiff(options(repo, { installable: '.#nope', base: { ref: without, source: 'input', reason: 'x' } })).catch((e) => e);
    expect(missing).toBeInstanceOf(UserError);
    expect(missing.message).toMatch(/^nix build .* failed \(exit 1\): .*does not provide attribute .*nope/);
    const failing = await flakeDiff(options(repo, { installable: '.#default', base: { ref: broken, source: 'input', reason: 'x' } })).catch((e) => e);
    expect(failing).toBeInstanceOf(UserError);
    expect(failing.message).toMatch(/builder for '.*newpkg-0\.9\.drv' failed/);
  });
});

describe('lock files present on one side, several, or globbed', () => {
  let repo: string;
  let base: string;
  const real = (dir: string, input: string) => {
    writeFileSync(join(dir, 'flake.nix'), `{ inputs.${input}.url = "git+file://${repo}-dep"; outputs = { self, ... }: { }; }`);
  };
  beforeAll(() => {
    repo = initRepo(mkdtempSync(join(tmpdir(), 'flake-diff-mono-')));
    mkdirSync(`${repo}-dep`);
    const dep = initRepo(`${repo}-dep`);
    writeFileSync(join(dep, 'flake.nix'), '{ outputs = { self }: { }; }');
    commitAll(dep, 'dep');
    for (const d of ['a', 'b']) mkdirSync(join(repo, d));
    real(join(repo, 'a'), 'one');
    real(join(repo, 'b'), 'two');
    writeFileSync(join(repo, 'README'), 'x');
    git(repo, 'add', '-A');
    for (const d of ['a', 'b']) execFileSync('nix', ['flake', 'lock'], { cwd: join(repo, d), env: nixEnv(), stdio: 'ignore' });
    base = commitAll(repo, 'base');
    // HEAD: a/ is removed, c/ is new, b/ unchanged
    rmSync(join(repo, 'a'), { recursive: true });
    mkdirSync(join(repo, 'c'));
    real(join(repo, 'c'), 'three');
    git(repo, 'add', '-A');
    execFileSync('nix', ['flake', 'lock'], { cwd: join(repo, 'c'), env: nixEnv(), stdio: 'ignore' });
    commitAll(repo, 'head');
  });

  it('a glob matches lock files on either side: added, removed, unchanged', async () => {
    const report = await flakeDiff(options(repo, { lockFiles: ['*/flake.lock'], base: { ref: base, source: 'input', reason: 'x' } }));
    expect(report.files.map((f) => `${f.path} ${f.status} ${f.changes.map((c) => `${c.input}:${c.change}`).join(',')}`)).toEqual([
      'a/flake.lock removed one:removed',
      'b/flake.lock compared ',
      'c/flake.lock added three:added',
    ]);
    // the removed lock has nothing to check; the others carry their own file in violations
    expect(report.files[0].violations).toEqual([]);
    expect(report.files[2].violations.every((v) => v.file === 'c/flake.lock')).toBe(true);
  });

  it('a lock file in neither side is a notice, not a crash', async () => {
    const log = recordingLog();
    const report = await flakeDiff(options(repo, { log, lockFiles: ['flake.lock', 'b/flake.lock'], base: { ref: base, source: 'input', reason: 'x' } }));
    expect(report.files.map((f) => `${f.path} ${f.status}`)).toEqual(['b/flake.lock compared', 'flake.lock absent']);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'notice', message: 'flake.lock is in neither the base nor HEAD: nothing to compare' }));
    expect(report.changed).toBe(false);
  });

  it('a glob matching nothing, or a path outside the repository, is an input error', async () => {
    await expect(flakeDiff(options(repo, { lockFiles: ['nope/*.lock'], base: { ref: base, source: 'input', reason: 'x' } }))).rejects.toThrow(
      "Input 'lock-file': the pattern 'nope/*.lock' matches no file at HEAD or at the base",
    );
    await expect(flakeDiff(options(repo, { lockFiles: ['../x/flake.lock'] }))).rejects.toThrow(/is outside the repository/);
  });

  it('without a base (new branch) the policy is still checked and nothing is compared', async () => {
    const log = recordingLog();
    const report = await flakeDiff(options(repo, { log, lockFiles: ['c/flake.lock'], base: chooseBase({ eventName: 'push', event: { before: '0'.repeat(40) } }) }));
    expect(report.base).toBeNull();
    expect(report.files[0].status).toBe('not-compared');
    expect(report.files[0].violations.length).toBeGreaterThan(0);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'notice', message: expect.stringMatching(/^No base to compare with: the push created a new branch/) }));
  });

  it('a malformed lock at HEAD fails with its file and line', async () => {
    const dir = initRepo(mkdtempSync(join(tmpdir(), 'flake-diff-bad-')));
    writeFileSync(join(dir, 'flake.lock'), '{\n  "version": 7,\n  "root": "root",\n  "nodes": { "root": { "inputs": { "x": ["y"] } } }\n}\n');
    const b = commitAll(dir, 'bad');
    const err = await flakeDiff(options(dir, { base: { ref: b, source: 'input', reason: 'x' } })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.file).toBe('flake.lock');
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/input 'x' follows 'y', which does not exist/);
  });

  it('not a git checkout is a clear error', async () => {
    const err = await flakeDiff(options(mkdtempSync(join(tmpdir(), 'flake-diff-nogit-')))).catch((e) => e);
    expect(err.oneLine).toMatch(/is not a git checkout\. Run actions\/checkout before flake-diff/);
  });
});

describe('git with a token, against a real git HTTP server', () => {
  const TOKEN = 'tok-123456';
  const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
  let pr: FlakePr;
  let root: string;
  beforeAll(() => {
    pr = makeFlakePr();
    root = mkdtempSync(join(tmpdir(), 'flake-diff-served-'));
    execFileSync('git', ['clone', '-q', '--bare', pr.origin, join(root, 'repo.git')]);
    git(join(root, 'repo.git'), 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
  });

  /** A shallow checkout whose origin is the served repository, as actions/checkout leaves it. */
  function checkout(url: string, persisted?: string): string {
    const clone = shallowClone(pr);
    git(clone, 'remote', 'set-url', 'origin', `${url}/repo.git`);
    if (persisted) git(clone, 'config', '--local', `http.${url}/.extraheader`, persisted);
    return clone;
  }
  const everything = (log: ReturnType<typeof recordingLog>, err?: any) =>
    [...log.lines.map((l) => l.message), err?.message, err?.oneLine, err?.detail].join('\n');

  it('sends exactly one Authorization header, with the token, even over the one actions/checkout persisted', async () => {
    const server = await startGitHttp(root, (req) => req.authorization[0] === `basic ${basic}` || 'bad credentials');
    try {
      const stale = Buffer.from('x-access-token:stale-checkout-token').toString('base64');
      const clone = checkout(server.url, `AUTHORIZATION: basic ${stale}`);
      const log = recordingLog();
      const report = await flakeDiff(
        options(clone, { log, base: { ref: pr.baseSha, source: 'input', reason: 'x' }, token: TOKEN, serverUrl: server.url }),
      );
      expect(report.base).toMatchObject({ sha: pr.baseSha, fetched: true });
      expect(report.files[0].status).toBe('compared');
      expect(server.requests.length).toBeGreaterThan(0);
      for (const r of server.requests) expect(r.authorization).toEqual([`basic ${basic}`]);
      const seen = everything(log);
      expect(seen).not.toContain(TOKEN);
      expect(seen).not.toContain(basic);
    } finally {
      await server.close();
    }
  });

  it('keeps the token out of the log and the error when git itself prints it', async () => {
    // The server echoes the credentials it decoded into git's error output.
    const server = await startGitHttp(root, (req) =>
      `no access for ${Buffer.from((req.authorization[0] ?? '').replace(/^basic /i, ''), 'base64').toString()}`,
    );
    try {
      const clone = checkout(server.url);
      const log = recordingLog();
      const err = await flakeDiff(
        options(clone, { log, base: { ref: pr.baseSha, source: 'input', reason: 'x' }, token: TOKEN, serverUrl: server.url }),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(UserError);
      // git did send the token, and did print it: the redaction is what hides it
      expect(server.requests.map((r) => r.authorization)).toEqual([[`basic ${basic}`]]);
      expect(err.oneLine).toMatch(/git fetch of [0-9a-f]{40} from origin failed \(exit 128\): remote error: no access for x-access-token:\*\*\*/);
      const seen = everything(log, err);
      expect(seen).not.toContain(TOKEN);
      expect(seen).not.toContain(basic);
    } finally {
      await server.close();
    }
  });
});
