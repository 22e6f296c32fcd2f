import { postComment } from '../../src/flake/comment.js';
import { GitHubApi, ApiError } from '../../src/github/api.js';
import { REPORT_VERSION, type Report } from '../../src/flake/report.js';
import { recordingLog } from '../../src/log.js';
import { UserError } from '../../src/errors.js';
import { startFakeGitHub, serveIssueComments, type FakeGitHub } from '../helpers/github-api.js';

/** The sticky comment against a local stand-in for the GitHub REST API. */
function report(over: Partial<Report> = {}): Report {
  return {
    version: REPORT_VERSION,
    generatedAt: '2024-11-20T00:00:00.000Z',
    base: { ref: 'b'.repeat(40), sha: 'b'.repeat(40), source: 'pull-request', fetched: true },
    baseReason: 'the pull request base main',
    head: { sha: 'c'.repeat(40), dirty: false },
    changed: true,
    violations: 0,
    policy: { rules: [], maxAgeDays: 30, nixpkgsInputs: ['nixpkgs'], supportedBranches: [], allowedHosts: [], allowedOwners: [] },
    files: [
      {
        path: 'flake.lock',
        status: 'compared',
        changes: [{ input: 'nixpkgs', change: 'updated', old: { node: 'nixpkgs', flake: true, locked: { type: 'github', url: 'github:NixOS/nixpkgs/1', rev: '1'.repeat(40) } }, new: { node: 'nixpkgs', flake: true, locked: { type: 'github', url: 'github:NixOS/nixpkgs/2', rev: '2'.repeat(40) } }, link: 'https://github.com/NixOS/nixpkgs/compare/1...2' }],
        violations: [],
      },
    ],
    packages: null,
    ...over,
  };
}

const prEvent = (over: Record<string, any> = {}) => ({
  pull_request: {
    number: 12,
    base: { sha: 'b'.repeat(40), ref: 'main', repo: { full_name: 'vig-os/example' } },
    head: { sha: 'c'.repeat(40), repo: { full_name: 'vig-os/example' } },
    ...over,
  },
});

describe('sticky pull-request comment', () => {
  let api: FakeGitHub;
  beforeEach(async () => {
    api = await startFakeGitHub();
  });
  afterEach(() => api.close());
  const ctx = (event: any, eventName = 'pull_request') => ({ event, eventName, repository: 'vig-os/example', apiUrl: api.url, serverUrl: 'https://github.com', runId: '99' });

  it('creates the comment, then updates it in place on the next run', async () => {
    const store = serveIssueComments(api, [{ id: 5, body: 'someone else', issue: 12 }]);
    const log = recordingLog();
    const first = await postComment({ mode: 'auto', context: ctx(prEvent()), token: 'ghs_tok', report: report(), lockFiles: ['flake.lock'], log });
    expect(first.action).toBe('created');
    const second = await postComment({ mode: 'auto', context: ctx(prEvent()), token: 'ghs_tok', report: report({ changed: false, files: [] }), lockFiles: ['flake.lock'], log });
    expect(second.action).toBe('updated');
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/vig-os/example/issues/12/comments?per_page=100&page=1',
      'POST /repos/vig-os/example/issues/12/comments',
      'GET /repos/vig-os/example/issues/12/comments?per_page=100&page=1',
      `PATCH /repos/vig-os/example/issues/comments/${first.url!.split('-').at(-1)}`,
    ]);
    const post = api.requests[1];
    expect(post.headers.authorization).toBe('Bearer ghs_tok');
    expect(post.headers.accept).toBe('application/vnd.github+json');
    expect(post.body.body).toMatch(/^<!-- nix-actions:flake-diff:flake\.lock -->\n## flake.lock changes/);
    expect(post.body.body).toContain('[compare](https://github.com/NixOS/nixpkgs/compare/');
    expect(post.body.body).toContain('https://github.com/vig-os/example/actions/runs/99');
    expect(store).toHaveLength(2);
    expect(store[1].body).toContain('No lock file matched.');
  });

  it('auto with nothing to say does not open a comment, but always does', async () => {
    serveIssueComments(api);
    const quiet = report({ changed: false, violations: 0 });
    const auto = await postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: quiet, lockFiles: ['flake.lock'], log: recordingLog() });
    expect(auto.action).toBe('skipped');
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    const always = await postComment({ mode: 'always', context: ctx(prEvent()), token: 't', report: quiet, lockFiles: ['flake.lock'], log: recordingLog() });
    expect(always.action).toBe('created');
  });

  it('one comment per lock-file set: the marker names the lock files', async () => {
    const store = serveIssueComments(api);
    await postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['a/flake.lock'], log: recordingLog() });
    await postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['b/flake.lock'], log: recordingLog() });
    expect(store.map((c) => c.body.split('\n')[0])).toEqual(['<!-- nix-actions:flake-diff:a/flake.lock -->', '<!-- nix-actions:flake-diff:b/flake.lock -->']);
  });

  it('a fork pull request is skipped with a notice under auto, without calling the API', async () => {
    const log = recordingLog();
    const r = await postComment({ mode: 'auto', context: ctx(prEvent({ head: { repo: { full_name: 'stranger/example' } } })), token: 't', report: report(), lockFiles: ['flake.lock'], log });
    expect(r.action).toBe('skipped');
    expect(api.requests).toHaveLength(0);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'notice', message: expect.stringMatching(/fork stranger\/example/) }));
  });

  it('a 403 from the API is a notice under auto and an error under always', async () => {
    api.on('GET', /comments/, { status: 200, body: [] });
    api.on('POST', /comments/, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const log = recordingLog();
    const r = await postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['flake.lock'], log });
    expect(r).toEqual(expect.objectContaining({ action: 'skipped', reason: expect.stringMatching(/cannot write to vig-os\/example \(HTTP 403\)/) }));
    const err = await postComment({ mode: 'always', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['flake.lock'], log }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.oneLine).toBe(
      'GitHub API POST /repos/vig-os/example/issues/12/comments answered 403: Resource not accessible by integration. Check that github-token has the permission this needs (pull-requests: write for comments)',
    );
  });

  it('a server error is an error even under auto', async () => {
    api.on('GET', /comments/, { status: 502, body: { message: 'Bad gateway' } });
    await expect(postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['flake.lock'], log: recordingLog() })).rejects.toThrow(/answered 502: Bad gateway/);
  });

  it('not a pull request, never, or no token: no request', async () => {
    const log = recordingLog();
    expect((await postComment({ mode: 'auto', context: ctx({}, 'push'), token: 't', report: report(), lockFiles: ['flake.lock'], log })).action).toBe('skipped');
    expect((await postComment({ mode: 'never', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['flake.lock'], log })).action).toBe('skipped');
    expect((await postComment({ mode: 'auto', context: ctx(prEvent()), token: '', report: report(), lockFiles: ['flake.lock'], log })).action).toBe('skipped');
    await expect(postComment({ mode: 'always', context: ctx(prEvent()), token: '', report: report(), lockFiles: ['flake.lock'], log })).rejects.toThrow(UserError);
    expect(api.requests).toHaveLength(0);
  });

  it('pages through long comment lists to find the sticky one', async () => {
    const seed = Array.from({ length: 130 }, (_, i) => ({ id: i + 1, body: `c${i}`, issue: 12 }));
    seed[120].body = '<!-- nix-actions:flake-diff:flake.lock -->\nold';
    serveIssueComments(api, seed);
    const r = await postComment({ mode: 'auto', context: ctx(prEvent()), token: 't', report: report(), lockFiles: ['flake.lock'], log: recordingLog() });
    expect(r.action).toBe('updated');
    expect(api.requests.map((x) => `${x.method} ${x.path}`)).toEqual([
      'GET /repos/vig-os/example/issues/12/comments?per_page=100&page=1',
      'GET /repos/vig-os/example/issues/12/comments?per_page=100&page=2',
      'PATCH /repos/vig-os/example/issues/comments/121',
    ]);
  });

  it('a hostile repository name never reaches a URL', async () => {
    const event = prEvent({ base: { repo: { full_name: '../../evil' } } });
    await expect(postComment({ mode: 'always', context: ctx(event), token: 't', report: report(), lockFiles: ['flake.lock'], log: recordingLog() })).rejects.toThrow(
      "'../../evil' is not an owner/name repository",
    );
    expect(api.requests).toHaveLength(0);
  });

  it('an unreachable API is one clear error', async () => {
    const gh = new GitHubApi({ token: 't', baseUrl: 'http://127.0.0.1:9' });
    await expect(gh.listIssueComments('a/b', 1)).rejects.toThrow(/^GitHub API GET \/repos\/a\/b\/issues\/1\/comments\?per_page=100&page=1 could not be reached/);
  });
});
