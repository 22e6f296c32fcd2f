import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBundle } from '../helpers/bundle.js';
import { makeFlakePr, shallowClone, type FlakePr } from '../helpers/flake-repo.js';
import { startFakeGitHub, serveIssueComments, type FakeGitHub } from '../helpers/github-api.js';
import { commitAll, git } from '../helpers/git.js';
import { NIX_TEST_CONF, nixEnv } from '../helpers/nix.js';

/**
 * The dist bundle under Node 24 on a pull_request event and a shallow clone, as
 * the runner runs it: it fetches the base commit itself, writes the summary, the
 * outputs, the JSON report and annotations, and creates then updates one comment
 * on a local stand-in for the GitHub API.
 */
describe('flake-diff bundle on a pull request', () => {
  let pr: FlakePr;
  let api: FakeGitHub;
  beforeAll(() => {
    pr = makeFlakePr();
  });
  // Each test gets its own API stand-in and comment store: none depends on another's comments.
  beforeEach(async () => {
    api = await startFakeGitHub();
  });
  afterEach(() => api.close());

  const event = () => ({
    action: 'synchronize',
    number: 42,
    pull_request: {
      number: 42,
      base: { sha: pr.baseSha, ref: 'main', repo: { full_name: 'vig-os/example' } },
      head: { sha: pr.headSha, ref: 'pr', repo: { full_name: 'vig-os/example' } },
    },
    repository: { full_name: 'vig-os/example' },
  });
  const lineOf = (text: string, re: RegExp) => text.split('\n').findIndex((l) => re.test(l)) + 1;

  it('reports, annotates, comments, and fails on violations', async () => {
    const store = serveIssueComments(api);
    const clone = shallowClone(pr);
    const result = await runBundle('flake-diff', {
      cwd: clone,
      eventName: 'pull_request',
      event: event(),
      inputs: { 'github-token': 'ghs_e2eSecretToken', installable: '.#default' },
      env: { GITHUB_API_URL: api.url, NIX_CONFIG: NIX_TEST_CONF, GITHUB_ACTION: 'lockdiff' },
    });
    const out = result.stdout + result.stderr;
    expect(out).toMatch(/fetching just that commit from origin with depth 1/);
    expect(out.replace(/^::add-mask::.*$/m, '')).not.toContain('ghs_e2eSecretToken');
    expect(out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);

    // outputs and report
    expect(result.outputs.changed).toBe('true');
    expect(result.outputs.violations).toBe('6');
    expect(result.outputs.report).toBe(join(result.files.dir, 'flake-diff', 'lockdiff.json'));
    const report = JSON.parse(readFileSync(result.outputs.report, 'utf8'));
    expect(report).toMatchObject({ version: 1, changed: true, violations: 6, base: { sha: pr.baseSha, source: 'pull-request', fetched: true }, head: { sha: pr.headSha } });
    expect(report.files[0].changes.map((c: any) => `${c.input}:${c.change}`)).toEqual(['dep:updated', 'dep/nixpkgs:follows-changed', 'extra:added', 'old:removed']);
    expect(report.packages.changes).toEqual([{ name: 'libfoo', change: 'changed', old: ['1.0'], new: ['1.1'] }]);

    // annotations: each violation at the line of its node, then the failure
    const lock = readFileSync(join(clone, 'flake.lock'), 'utf8');
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(7);
    for (const a of errors.slice(0, 6)) {
      const node = /^Input '([^/']+)/.exec(a.message)![1];
      expect(a.props).toMatchObject({ file: 'flake.lock', line: String(lineOf(lock, new RegExp(`^    "${node}": \\{`))) });
      expect(a.props.title).toMatch(/^flake-diff policy \((no-path|max-age|supported-branch|nixos-owner)\)$/);
    }
    expect(errors[6].message).toBe(
      'flake-diff found 6 policy violations (fail-on: violation). See the annotations and the job summary; set fail-on: never to report without failing',
    );
    expect(result.code).toBe(1);

    // summary
    expect(result.summary).toContain('## flake.lock changes');
    expect(result.summary).toMatch(/\| `dep` \| updated \| `[0-9a-f]{12}` \(main\) \d{4}-\d\d-\d\d \| `[0-9a-f]{12}` \(main\)/);
    expect(result.summary).toContain('**Policy violations (6)**');
    expect(result.summary).toContain('| `libfoo` | changed | 1.0 | 1.1 |');
    expect(result.summary).toContain('fetched with depth 1 (shallow checkout)');

    // comment created
    const posts = api.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe('/repos/vig-os/example/issues/42/comments');
    expect(posts[0].headers.authorization).toBe('Bearer ghs_e2eSecretToken');
    expect(posts[0].body.body.split('\n')[0]).toBe('<!-- nix-actions:flake-diff:flake.lock -->');
    expect(store).toHaveLength(1);
    for (const p of [...report.packages.base, ...report.packages.head]) execFileSync('nix-store', ['--delete', p], { env: nixEnv(), stdio: 'ignore' });
  });

  it('a later push updates the same comment in place', async () => {
    // the comment an earlier run left, next to someone else's
    const marker = '<!-- nix-actions:flake-diff:flake.lock -->';
    const store = serveIssueComments(api, [
      { id: 76, body: 'LGTM', issue: 42 },
      { id: 77, body: `${marker}\n## flake.lock changes\n\nfrom an earlier push: \`extra\` | added`, issue: 42 },
    ]);
    const clone = shallowClone(pr);
    // the next push on the pull request: the extra input is dropped again
    writeFileSync(join(clone, 'flake.nix'), readFileSync(join(clone, 'flake.nix'), 'utf8').replace(/extra\.url = "[^"]*";/, ''));
    execFileSync('nix', ['flake', 'lock'], { cwd: clone, env: nixEnv(), stdio: 'ignore' });
    const head = commitAll(clone, 'drop extra');
    const ev = event();
    ev.pull_request.head.sha = head;
    const result = await runBundle('flake-diff', {
      cwd: clone,
      eventName: 'pull_request',
      event: ev,
      inputs: { 'github-token': 'ghs_e2eSecretToken', 'fail-on': 'never' },
      env: { GITHUB_API_URL: api.url, NIX_CONFIG: NIX_TEST_CONF },
    });
    expect(result.code).toBe(0);
    expect(result.outputs.changed).toBe('true');
    expect(result.outputs.violations).toBe('5');
    expect(result.annotations.filter((a) => a.level === 'warning')).toHaveLength(5);
    expect(result.annotations.filter((a) => a.level === 'error')).toHaveLength(0);
    const calls = api.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual(['GET /repos/vig-os/example/issues/42/comments?per_page=100&page=1', 'PATCH /repos/vig-os/example/issues/comments/77']);
    expect(store.map((c) => c.id)).toEqual([76, 77]);
    expect(store[0].body).toBe('LGTM');
    expect(store[1].body.split('\n')[0]).toBe(marker);
    expect(store[1].body).not.toContain('`extra`');
    expect(store[1].body).toContain('`old` | removed');
    expect(git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
  });

  it('fail-on change fails on any lock change; a fork pull request gets no comment', async () => {
    const clone = shallowClone(pr);
    const ev = event();
    ev.pull_request.head.repo.full_name = 'stranger/example';
    const result = await runBundle('flake-diff', {
      cwd: clone,
      eventName: 'pull_request',
      event: ev,
      inputs: { 'github-token': 'ghs_x', 'fail-on': 'change', policy: 'locked, nar-hash' },
      env: { GITHUB_API_URL: api.url, NIX_CONFIG: NIX_TEST_CONF },
    });
    expect(result.code).toBe(1);
    expect(result.outputs.violations).toBe('0');
    expect(result.annotations.map((a) => `${a.level}: ${a.message}`)).toEqual([
      'notice: No pull-request comment: the pull request comes from the fork stranger/example, whose token cannot write comments',
      'error: flake-diff found lock changes (fail-on: change). See the annotations and the job summary; set fail-on: never to report without failing',
    ]);
    expect(api.requests).toHaveLength(0);
  });

  it.each([
    ['policy', 'max-age, bogus', /^Input 'policy': unknown rule 'bogus' \(rules: max-age, /],
    ['lock-file', '../../etc/passwd', /^Input 'lock-file': '\.\.\/\.\.\/etc\/passwd' is outside the repository/],
    ['base', '--upload-pack=sh', /^Input 'base': '--upload-pack=sh' is not a branch, tag or commit SHA$/],
    ['installable', 'github:evil/x#y', /^Input 'installable': 'github:evil\/x#y' is not a flake in this repository/],
  ])('bad input %s=%j is one error line', async (name, value, message) => {
    const clone = shallowClone(pr);
    const result = await runBundle('flake-diff', {
      cwd: clone,
      eventName: 'pull_request',
      event: event(),
      inputs: { [name]: value, comment: 'never' },
      env: { NIX_CONFIG: NIX_TEST_CONF },
    });
    expect(result.code).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(message);
  });

  it('a malformed lock at HEAD is one error annotated at its file and line', async () => {
    const clone = shallowClone(pr);
    writeFileSync(join(clone, 'flake.lock'), '{\n  "nodes": {\n    "root": {}\n  },\n  "root": "root",\n  "version": 9\n}\n');
    const result = await runBundle('flake-diff', { cwd: clone, eventName: 'pull_request', event: event(), inputs: { comment: 'never' }, env: { NIX_CONFIG: NIX_TEST_CONF } });
    expect(result.code).toBe(1);
    expect(result.annotations).toEqual([
      {
        level: 'error',
        props: { file: 'flake.lock', line: '6' },
        message: 'flake.lock:6: has lock file version 9, which is not supported (supported: 5 to 7). Regenerate it with `nix flake lock`, or fix it by hand',
      },
    ]);
  });
});
