import { cell, code, formatBytes, table } from '../markdown.js';
import type { BuildReport } from './build.js';


export function buildSummary(r: BuildReport): string {
  const rows: [string, string][] = [
    ['Installable', code(r.installable)],
    ['Derivation', code(r.drvPath)],
    ['Output', code(r.outPath)],
    ['Image format', code(r.image.format)],
    ['Layers', String(r.closure.layers)],
    ['Closure', `${r.closure.entries.length} store paths, ${formatBytes(r.closure.closureSize)}`],
    ['Build time', `${r.buildSeconds.toFixed(1)} s`],
  ];
  const out = [
    '## Nix build',
    '',
    ...table(['', ''], rows),
    '',
    `<details><summary>Package versions in the image (${r.versions.length})</summary>`,
    '',
    ...table(
      ['Package', 'Version', 'Output', 'Store path'],
      r.versions.map((v) => [cell(v.name), cell(v.version) || '–', cell(v.output), code(v.path)]),
    ),
    '',
    '</details>',
    '',
  ];
  if (r.closure.missing.length) {
    out.push(`> [!WARNING]\n> ${r.closure.missing.length} image path(s) are not in the local store: sizes and hashes are unknown for them.`, '');
  }
  return out.join('\n');
}
