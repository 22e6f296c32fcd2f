import type { SbomDiff } from './diff.js';

/**
 * Markdown for the job summary. Package names and versions come from files a pull
 * request can change, so they are escaped: no HTML, no table breaks, no newlines.
 */
export function cell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, "'")
    .replace(/([*_[\]\\])/g, '\\$1')
    .trim();
}

const versions = (v: string[]): string => (v.length ? v.map((x) => (x === '' ? '(none)' : x)).map(cell).join(', ') : '');

export function summaryMarkdown(d: SbomDiff, title = 'SBOM diff against the base branch'): string {
  const lines = [`### ${title}`, ''];
  lines.push(
    `| | packages |`,
    `|---|---:|`,
    `| base | ${d.base.packages} |`,
    `| head | ${d.head.packages} |`,
    `| added | ${d.added.length} |`,
    `| removed | ${d.removed.length} |`,
    `| version changed | ${d.changed.length} |`,
    `| rebuilt at the same version | ${d.rebuilt.length} |`,
    `| unchanged | ${d.unchanged} |`,
    '',
  );
  if (d.added.length + d.removed.length + d.changed.length + d.rebuilt.length === 0) {
    lines.push('No package was added, removed, changed or rebuilt.', '');
    return lines.join('\n');
  }
  lines.push('| change | package | base | head |', '|---|---|---|---|');
  for (const c of d.changed) lines.push(`| version changed | ${cell(c.name)} | ${versions(c.from)} | ${versions(c.to)} |`);
  for (const a of d.added) lines.push(`| added | ${cell(a.name)} | | ${versions(a.versions)} |`);
  for (const r of d.removed) lines.push(`| removed | ${cell(r.name)} | ${versions(r.versions)} | |`);
  for (const r of d.rebuilt) lines.push(`| rebuilt | ${cell(r.name)} | ${versions(r.versions)} | ${versions(r.versions)} |`);
  lines.push('');
  return lines.join('\n');
}
