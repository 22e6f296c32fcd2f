import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLock } from '../../src/flake/lock.js';
import { diffLocks } from '../../src/flake/diff.js';
import { checkPolicy, DEFAULT_RULES } from '../../src/flake/policy.js';
import { annotate, failure, parseRules } from '../../src/flake/outcome.js';
import { recordingLog } from '../../src/log.js';
import { commentMarker, renderComment, renderMarkdown, REPORT_VERSION, COMMENT_LIMIT, type Report } from '../../src/flake/report.js';
import { cell } from '../../src/markdown.js';
import { reportPath, writeReport } from '../../src/flake/report-file.js';

const FIX = join(new URL('../fixtures/flake-lock', import.meta.url).pathname);
const load = (name: string) => parseLock(readFileSync(join(FIX, name), 'utf8'), name);
const NOW = new Date('2024-11-20T00:00:00Z');

function reportFor(baseName: string, headName: string): Report {
  const head = load(headName);
  const policy = { rules: DEFAULT_RULES, maxAgeDays: 30, nixpkgsInputs: ['nixpkgs'], supportedBranches: [], allowedHosts: [], allowedOwners: [], now: NOW };
  const violations = checkPolicy(head, policy);
  const changes = diffLocks(load(baseName), head);
  return {
    version: REPORT_VERSION,
    generatedAt: NOW.toISOString(),
    base: { ref: 'main', sha: 'a'.repeat(40), source: 'input', fetched: false },
    baseReason: "the base input 'main'",
    head: { sha: 'b'.repeat(40), dirty: false },
    changed: changes.length > 0,
    violations: violations.length,
    policy: { ...policy, now: undefined } as any,
    files: [{ path: 'flake.lock', status: 'compared', changes, violations }],
    packages: { installable: '.#devcontainer', base: [], head: [], changes: [{ name: 'python3', change: 'changed', old: ['3.12.4'], new: ['3.12.5'] }] },
  };
}

describe('summary Markdown', () => {
  const md = renderMarkdown(reportFor('all-types.lock', 'all-types-updated.lock'));
  const rows = md.split('\n').filter((l) => l.startsWith('| `'));

  it('a table per lock file: input, change, old, new, age, link', () => {
    expect(md).toContain('| Input | Change | Old | New | Age | Link |');
    expect(md).toContain('### `flake.lock`');
    expect(md).toContain('9 input changes.');
    const nixpkgs = rows.find((r) => r.startsWith('| `nixpkgs` |'))!;
    expect(nixpkgs).toBe(
      '| `nixpkgs` | updated | `444444444444` 2024-11-07 | `666666666666` 2024-11-19 | 0 d | [compare](https://github.com/NixOS/nixpkgs/compare/4444444444444444444444444444444444444444...6666666666666666666666666666666666666666) |',
    );
    const src = rows.find((r) => r.startsWith('| `src` |'))!;
    expect(src).toContain('`https://example.org/releases/src-1.0.tar.gz` → `https://example.org/releases/src-1.1.tar.gz`');
    expect(rows.find((r) => r.startsWith('| `devenv/pre-commit/nixpkgs` |'))).toContain('follows `devenv/nixpkgs` | follows `nixpkgs`');
    expect(rows.find((r) => r.startsWith('| `extra` |'))).toMatch(/\| added \| {2}\| `bbbbbbbbbbbb` 2023-11-14 \| 371 d \| {2}\|$/);
  });

  it('then the violations and the package changes', () => {
    expect(md).toContain('Policy: no violations.');
    expect(md).toContain('### Packages in `.#devcontainer`');
    expect(md).toContain('| `python3` | changed | 3.12.4 | 3.12.5 |');
    const withViolations = renderMarkdown(reportFor('all-types-updated.lock', 'all-types.lock'));
    expect(withViolations).toContain('**Policy violations (1)**');
    expect(withViolations).toMatch(/\| no-path \| `local` \| \d+ \| Input 'local' is a local path: input/);
  });

  it('hostile strings from a lock file cannot break the table or inject HTML', () => {
    expect(cell('a|b\n<img src=x onerror=alert(1)>`x`')).toBe("a\\|b &lt;img src=x onerror=alert(1)&gt;'x'");
    const text = JSON.stringify({
      version: 7,
      root: 'root',
      nodes: { root: { inputs: { 'x|y\n<script>': 'n' } }, n: { locked: { type: 'path', path: '/a|b', narHash: 'sha256-x' } } },
    });
    const head = parseLock(text);
    const r = reportFor('all-types.lock', 'all-types.lock');
    r.files[0].changes = diffLocks(undefined, head);
    const out = renderMarkdown(r);
    const row = out.split('\n').find((l) => l.includes('<script>'))!;
    expect(row).toBe('| `x\\|y <script>` | added |  | `path:/a\\|b` `sha256-x…` |  |  |');
    // Markdown never renders HTML inside a code span: outside one it is escaped.
    expect(out.replace(/`[^`]*`/g, '')).not.toContain('<script>');
  });

  it('the comment starts with its marker and is clipped to GitHub’s limit', () => {
    expect(commentMarker(['a/flake.lock', 'b/flake.lock'])).toBe('<!-- nix-actions:flake-diff:a/flake.lock,b/flake.lock -->');
    expect(commentMarker(['x-->y\n'])).not.toMatch(/-->.*-->/);
    const r = reportFor('all-types.lock', 'all-types-updated.lock');
    r.files = Array.from({ length: 200 }, () => r.files[0]);
    const body = renderComment(r, commentMarker(['flake.lock']));
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.startsWith('<!-- nix-actions:flake-diff:flake.lock -->\n')).toBe(true);
    expect(body).toMatch(/clipped: the full report is in the job summary/);
  });
});

describe('step outcome', () => {
  const base = reportFor('all-types.lock', 'all-types-updated.lock');
  const withViolation = reportFor('all-types-updated.lock', 'all-types.lock');
  it.each([
    ['never', base, undefined],
    ['never', withViolation, undefined],
    ['violation', base, undefined],
    ['violation', withViolation, 'flake-diff found 1 policy violation (fail-on: violation)'],
    ['change', base, 'flake-diff found lock changes (fail-on: change)'],
    ['change', withViolation, 'flake-diff found 1 policy violation and lock changes (fail-on: change)'],
    ['change', { ...base, changed: false }, undefined],
  ] as const)('fail-on %s', (failOn, report, message) => {
    expect(failure(report, failOn)?.message).toBe(message);
  });
  it('annotates each violation at its line, as an error only when it fails the step', () => {
    const log = recordingLog();
    annotate(withViolation, log, 'violation');
    annotate(withViolation, log, 'never');
    const v = withViolation.files[0].violations[0];
    expect(log.lines).toEqual([
      { level: 'error', message: v.message, where: { file: 'all-types.lock', line: v.line, title: 'flake-diff policy (no-path)' } },
      { level: 'warning', message: v.message, where: { file: 'all-types.lock', line: v.line, title: 'flake-diff policy (no-path)' } },
    ]);
    expect(v.line).toBeGreaterThan(1);
  });
  it('an unknown policy rule is an input error naming the rules', () => {
    expect(() => parseRules(['max-age', 'nope'])).toThrow("Input 'policy': unknown rule 'nope' (rules: max-age, supported-branch, ");
    expect(parseRules(['locked'])).toEqual(['locked']);
  });
});

describe('the report file', () => {
  it('is <runner temp>/flake-diff/<step id>.json, with a step id that cannot leave the directory', () => {
    expect(reportPath('/rt', 'lockdiff')).toBe('/rt/flake-diff/lockdiff.json');
    expect(reportPath('/rt', undefined)).toBe('/rt/flake-diff/report.json');
    expect(reportPath('/rt', '')).toBe('/rt/flake-diff/report.json');
    expect(reportPath('/rt', '../../etc/x')).toBe('/rt/flake-diff/.._.._etc_x.json');
    expect(reportPath('/rt', '..')).toBe('/rt/flake-diff/__.json');
    expect(reportPath('/rt', 'a\n::error::b c')).toBe('/rt/flake-diff/a___error__b_c.json');
  });

  it('writeReport writes the JSON and returns its path', () => {
    const rt = mkdtempSync(join(tmpdir(), 'flake-report-'));
    const report = reportFor('all-types.lock', 'all-types-updated.lock');
    const path = writeReport(report, rt, '__run_2');
    expect(path).toBe(join(rt, 'flake-diff', '__run_2.json'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('says when the installable is not at the base', () => {
    const report = reportFor('all-types.lock', 'all-types-updated.lock');
    report.packages = { installable: '.#new', base: [], head: ['/nix/store/x-new-1.0'], baseMissing: "flake 'x' does not provide attribute <new>", changes: [{ name: 'new', change: 'added', old: [], new: ['1.0'] }] };
    expect(renderMarkdown(report)).toContain("Not at the base (flake 'x' does not provide attribute &lt;new&gt;): every package is new.");
  });
});
