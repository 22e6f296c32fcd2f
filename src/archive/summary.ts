import { cell, formatBytes } from '../markdown.js';
import type { ArchiveResult } from './create.js';
import type { VerifyResult } from './verify.js';

const code = (s: string) => `\`${cell(s).replace(/`/g, "'")}\``;

export function archiveSummary(a: ArchiveResult, v?: VerifyResult): string {
  const m = a.manifest;
  const drvCount = m.paths.filter((p) => p.path.endsWith('.drv')).length;
  const out = [
    '## Nix offline archive',
    '',
    '| | |',
    '|---|---|',
    `| Installable | ${code(m.installable)} |`,
    `| Scope | ${code(m.scope)} |`,
    `| Derivation | ${code(m.drvPath)} |`,
    ...Object.entries(m.outputs).map(([k, o]) => `| Output ${cell(k)} | ${code(o.path)} ${code(o.narHash)} |`),
    `| Flake source | ${code(m.flake.path)} ${m.flake.narHash ? code(m.flake.narHash) : ''} |`,
    `| Store paths | ${m.paths.length} (${drvCount} derivations, ${m.fixedOutputs.length} fixed-output sources), ${formatBytes(m.narSize)} unpacked |`,
    `| Archive | ${code(a.dir)}, ${formatBytes(a.size)} |`,
    `| Nix | ${cell(m.nixVersion)} |`,
    '',
  ];
  if (m.inputs.length) {
    out.push('| Flake input | Type | Revision | narHash |', '|---|---|---|---|');
    for (const i of m.inputs) {
      out.push(`| ${cell(i.input)} | ${cell(i.type ?? '')} | ${i.rev ? code(i.rev) : '–'} | ${i.narHash ? code(i.narHash) : '–'} |`);
    }
    out.push('');
  }
  if (v) {
    out.push(
      `### Verification: rebuilt from the archive alone ✅`,
      '',
      `In an empty store with no substituters and no network: ${v.pathsRestored} paths restored` +
        (v.evaluatedDrvPath ? `, the archived flake evaluated to the same derivation, and it was rebuilt` : '') +
        ` in ${v.seconds.toFixed(1)} s.`,
      '',
      '| Output | Path | Bit-for-bit identical |',
      '|---|---|---|',
      ...v.outputs.map((o) => `| ${cell(o.name)} | ${code(o.path)} | ${o.identical ? 'yes' : `no (${code(o.narHash)})`} |`),
      '',
    );
  }
  return out.join('\n');
}
