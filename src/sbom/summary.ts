import { cell, code, formatBytes, table } from '../markdown.js';
import type { Component, SbomModel } from './model.js';

/** The job summary an auditor reads: counts, the largest components, licenses, and what is unknown. */
export function summaryMarkdown(model: SbomModel, files: { format: string; path: string; bytes: number; sha256: string }[]): string {
  const all = [model.root, ...model.components];
  const lines: string[] = [];
  lines.push(`## SBOM of ${cell(model.info.subject)}`, '');
  lines.push(
    `Scope **${model.info.scope}**, ${all.length} components, timestamp ${new Date(model.info.timestamp * 1000).toISOString()} (${cell(model.info.timestampSource)}), supplier ${cell(model.info.supplier.name)}, author ${cell(model.info.author.name)}.`,
    '',
  );
  lines.push(...table(['file', 'format', 'size', 'SHA-256'], files.map((f) => [code(f.path), f.format, formatBytes(f.bytes), code(f.sha256)]), ['l', 'l', 'r']));
  lines.push('');

  const kinds = new Map<string, number>();
  const bump = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  for (const c of all) {
    bump(c.flakeInput ? 'flake input' : c.kind === 'source' ? 'fixed-output source' : c.kind);
    if (c.storePath) bump(c.runtime ? 'in the runtime closure' : 'build-time only');
  }
  lines.push('### Components by kind', '', '| kind | count |', '|---|---:|');
  for (const [k, n] of [...kinds].sort()) lines.push(`| ${k} | ${n} |`);
  lines.push('');

  const largest = all.filter((c) => c.narSize !== undefined).sort((a, b) => b.narSize! - a.narSize! || (a.ref < b.ref ? -1 : 1)).slice(0, 10);
  lines.push('### Ten largest components', '', '| component | version | NAR size | store path |', '|---|---|---:|---|');
  for (const c of largest) lines.push(`| ${cell(c.name)} | ${cell(c.version) || '—'} | ${formatBytes(c.narSize!)} | ${code(c.storePath)} |`);
  lines.push('');

  const licenses = new Map<string, number>();
  for (const c of all) for (const l of c.licenses) licenses.set(l.spdxId ?? l.name!, (licenses.get(l.spdxId ?? l.name!) ?? 0) + 1);
  lines.push('### Licenses found', '');
  if (licenses.size === 0) lines.push('None: no component carries license metadata Nix could give.');
  else {
    lines.push('| license | components |', '|---|---:|');
    for (const [l, n] of [...licenses].sort()) lines.push(`| ${cell(l)} | ${n} |`);
  }
  lines.push('');

  const noVersion = all.filter((c) => !c.version);
  const noLicense = all.filter((c) => c.licenses.length === 0);
  const noHash = all.filter((c) => !c.narHash);
  lines.push('### Known unknowns', '', '| what is missing | components | examples |', '|---|---:|---|');
  const row = (what: string, cs: Component[]) => lines.push(`| ${what} | ${cs.length} | ${examples(cs)} |`);
  row('version', noVersion);
  row('license', noLicense);
  row('hash (path not in this store)', noHash);
  lines.push('');
  return lines.join('\n');
}

function examples(cs: Component[]): string {
  const names = [...new Set(cs.map((c) => c.name))].sort();
  const shown = names.slice(0, 8).map(cell).join(', ');
  return names.length > 8 ? `${shown}, … (${names.length - 8} more)` : shown || '—';
}

