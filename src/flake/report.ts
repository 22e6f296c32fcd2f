import { cell, code, table } from '../markdown.js';
import type { InputChange, Side } from './diff.js';
import type { PackageChange } from './packages.js';
import type { PolicyOptions, Violation } from './policy.js';

/**
 * The JSON report (shape documented in flake-diff/README.md) and its Markdown
 * rendering for the job summary and the pull-request comment.
 */
export const REPORT_VERSION = 1;

export type FileStatus = 'compared' | 'added' | 'removed' | 'absent' | 'not-compared';

export interface FileReport {
  /** Path relative to the repository root. */
  path: string;
  status: FileStatus;
  baseVersion?: number;
  headVersion?: number;
  changes: InputChange[];
  violations: Violation[];
}

export interface PackageReport {
  installable: string;
  base: string[];
  head: string[];
  /** Why the installable is not at the base (a pull request that adds it): `base` is empty and every package is added. */
  baseMissing?: string;
  changes: PackageChange[];
}

export interface Report {
  version: typeof REPORT_VERSION;
  generatedAt: string;
  base: { ref: string; sha: string; source: string; fetched: boolean } | null;
  baseReason: string;
  head: { sha: string; dirty: boolean };
  changed: boolean;
  violations: number;
  /** The policy applied (its options, less the clock). */
  policy: Omit<PolicyOptions, 'now'>;
  files: FileReport[];
  packages: PackageReport | null;
}


function describe(s: Side | undefined): string {
  if (!s) return '';
  if (s.follows !== undefined) return `follows ${code(s.follows || '(root)')}`;
  const l = s.locked;
  if (!l) return 'unlocked';
  const parts: string[] = [];
  if (l.rev) parts.push(code(l.rev.slice(0, 12)));
  else parts.push(code(l.url));
  if (l.ref) parts.push(`(${cell(l.ref)})`);
  if (l.date) parts.push(l.date.slice(0, 10));
  if (!l.rev && l.narHash) parts.push(code(l.narHash.slice(0, 19) + '…'));
  return parts.join(' ');
}

function age(s: Side | undefined, now: number): string {
  const lm = s?.locked?.lastModified;
  if (lm === undefined || s?.follows !== undefined) return '';
  const days = Math.floor((now - lm * 1000) / 86400000);
  return `${days} d`;
}

function link(c: InputChange): string {
  if (c.link) return `[compare](${encodeURI(c.link).replace(/[()]/g, encodeURIComponent)})`;
  const a = c.old?.locked?.url;
  const b = c.new?.locked?.url;
  if (c.change === 'added' || c.change === 'removed' || c.change === 'follows-changed') return '';
  return a && b ? `${code(a)} → ${code(b)}` : '';
}

export function renderMarkdown(report: Report, options: { title?: string } = {}): string {
  const now = Date.parse(report.generatedAt);
  const out: string[] = [];
  out.push(`## ${options.title ?? 'flake.lock changes'}`);
  out.push('');
  const baseText = report.base ? `base ${code(report.base.sha.slice(0, 12))} (${cell(report.baseReason)})` : cell(report.baseReason);
  out.push(`Compared with ${baseText}${report.base?.fetched ? '; fetched with depth 1 (shallow checkout)' : ''}.`);
  out.push('');
  for (const f of report.files) {
    out.push(`### ${code(f.path)}`);
    out.push('');
    const status: Record<FileStatus, string> = {
      compared: f.changes.length ? `${f.changes.length} input change${f.changes.length === 1 ? '' : 's'}.` : 'No input changed.',
      added: 'New lock file: every input is added.',
      removed: 'Lock file removed: every input is removed.',
      absent: 'Not present at the base nor at HEAD.',
      'not-compared': 'Not compared (no base); policy checked.',
    };
    out.push(status[f.status]);
    out.push('');
    if (f.changes.length) {
      out.push(
        ...table(
          ['Input', 'Change', 'Old', 'New', 'Age', 'Link'],
          f.changes.map((c) => [code(c.input), c.change, describe(c.old), describe(c.new), age(c.new, now), link(c)]),
        ),
      );
      out.push('');
    }
    if (f.violations.length) {
      out.push(`**Policy violations (${f.violations.length})**`);
      out.push('');
      out.push(...table(['Rule', 'Input', 'Line', 'Problem'], f.violations.map((v) => [v.rule, code(v.inputs.join(', ')), v.line ?? '', cell(v.message)])));
      out.push('');
    } else if (f.status !== 'removed' && f.status !== 'absent') {
      out.push('Policy: no violations.');
      out.push('');
    }
  }
  if (!report.files.length) {
    out.push('No lock file matched.');
    out.push('');
  }
  if (report.packages) {
    const p = report.packages;
    out.push(`### Packages in ${code(p.installable)}`);
    out.push('');
    if (p.baseMissing !== undefined) {
      out.push(`Not at the base (${cell(p.baseMissing)}): every package is new.`);
      out.push('');
    }
    if (!p.changes.length) out.push('No package version changed.');
    else out.push(...table(['Package', 'Change', 'Old', 'New'], p.changes.map((c) => [code(c.name), c.change, cell(c.old.join(', ')), cell(c.new.join(', '))])));
    out.push('');
  }
  return out.join('\n');
}

export const COMMENT_LIMIT = 65000;

/** The sticky comment: a hidden marker naming the lock files, then the summary (clipped to GitHub's limit). */
export function commentMarker(lockFiles: string[]): string {
  return `<!-- nix-actions:flake-diff:${lockFiles.join(',').replace(/--/g, '-\u200b-').replace(/[\r\n>]/g, '_')} -->`;
}

export function renderComment(report: Report, marker: string, runUrl?: string): string {
  let body = `${marker}\n${renderMarkdown(report)}`;
  if (runUrl) body += `\n<sub>Updated by [flake-diff](${runUrl}) for ${code(report.head.sha.slice(0, 12))}.</sub>\n`;
  if (body.length > COMMENT_LIMIT) body = `${body.slice(0, COMMENT_LIMIT - 200)}\n\n…(clipped: the full report is in the job summary)\n`;
  return body;
}
