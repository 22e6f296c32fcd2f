import { cell, code, table } from '../markdown.js';
import type { ReadResult } from './read.js';
import type { PushPlan, PushResult } from './push.js';

/** Job summary tables: what the cache step configured and pushed, for a person to read. */

export function readSummary(read: ReadResult, plan: PushPlan): string {
  const lines = ['### Nix binary caches', ''];
  if (read.caches.length === 0) lines.push('No cache to read from was configured.', '');
  else {
    lines.push(
      ...table(
        ['cache', 'substituter', 'public keys', 'private', 'reachable'],
        read.caches.map((c) => [cell(c.label), cell(c.url), c.keys.map(code).join('<br>'), c.private ? 'yes (netrc)' : 'no', cell(c.reachable)]),
      ),
    );
    lines.push('');
    if (read.written) {
      lines.push(
        `Written to ${code(read.written.target.file)} (${read.written.target.scope} configuration: ${cell(read.written.target.reason)}), and read back through \`nix show-config\`.`,
        '',
      );
    }
  }
  lines.push(plan.mode === 'none' ? `Push: none (${cell(plan.reason ?? '')}).` : `Push: ${plan.mode} to ${code(plan.target)} in the post step.`, '');
  return lines.join('\n') + '\n';
}

export function pushSummary(r: PushResult): string {
  const lines = [
    '### Nix binary cache push',
    '',
    ...table(
      ['mode', 'target', 'new paths offered', 'filtered out', 'pushed', 'seconds', 'result'],
      [[r.mode, cell(r.target), r.offered, r.filtered, r.pushed.length, r.seconds, r.error ? `failed: ${cell(r.error)}` : 'ok']],
    ),
    '',
  ];
  if (r.pushed.length > 0) {
    lines.push('<details><summary>Pushed paths</summary>', '', ...r.pushed.map((p) => `- ${code(p)}`), '', '</details>', '');
  }
  return lines.join('\n') + '\n';
}
