import type { FlakeSources } from './flake.js';

/**
 * `manifest.json` at the root of the archive (shape documented in archive/README.md).
 * Hashes are SRI (`sha256-...`) whatever the Nix version printed.
 */
export interface ArchivedPath {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  ca?: string;
}

export interface FixedOutput {
  drvPath: string;
  path: string;
  hashAlgo: string;
  hash: string;
}

export interface ArchiveManifest {
  version: 1;
  installable: string;
  attr: string;
  scope: 'build' | 'runtime';
  nixVersion: string;
  system?: string;
  createdAt: string;
  /** Binary cache directory, relative to the manifest (`nix copy --to file://...`). */
  cache: string;
  flake: Omit<FlakeSources, 'inputs' | 'storePaths'>;
  inputs: FlakeSources['inputs'];
  drvPath: string;
  /** The installable's outputs as built when archiving (the reference for verify). */
  outputs: Record<string, { path: string; narHash: string; narSize: number }>;
  /** Sources fetched with a known hash (fixed-output derivations) in the build closure. */
  fixedOutputs: FixedOutput[];
  /** Every store path in the cache. */
  paths: ArchivedPath[];
  narSize: number;
}

export function readmeText(m: ArchiveManifest): string {
  const { attr } = m;
  return `# Offline rebuild archive

Made by vig-os/nix-actions/archive with Nix ${m.nixVersion} on ${m.createdAt}.

- Installable: \`${m.installable}\` (attribute \`${attr}\`)
- Derivation: \`${m.drvPath}\`
- Outputs: ${Object.entries(m.outputs)
    .map(([k, v]) => `${k} = \`${v.path}\` (${v.narHash})`)
    .join(', ')}
- Scope: \`${m.scope}\` (${m.scope === 'build' ? 'every derivation and fixed-output source needed to rebuild from source' : 'the outputs and their runtime closure only'})
- Flake source: \`${m.flake.path}\` (${m.flake.narHash ?? 'no narHash'}${m.flake.rev ? `, rev ${m.flake.rev}` : ''})
- ${m.paths.length} store paths, ${m.narSize} bytes unpacked; every path's narHash is in \`manifest.json\`.

## Layout

- \`cache/\`: a Nix binary cache (\`nix copy --to file://...\`, zstd NARs). Unsigned: trust comes from
  the narHashes in \`manifest.json\`, which Nix checks on every copy.
- \`manifest.json\`: flake inputs (rev, narHash), every store path (narHash, size), the Nix version.

## Rebuild without the internet

Into a fresh store (nothing else in it), so nothing can come from elsewhere:

\`\`\`sh
A=$PWD                     # this directory
S=$(mktemp -d)             # a new, empty store root
# derivations and sources from the archive
nix copy --no-check-sigs --from "file://$A/${m.cache}" --to "$S" --derivation $(jq -r '.paths[].path | select(endswith(".drv"))' manifest.json)
nix copy --no-check-sigs --from "file://$A/${m.cache}" --to "$S" $(jq -r '.paths[].path | select(endswith(".drv") | not)' manifest.json)
# evaluate from the archived flake source: must print ${m.drvPath}
nix path-info --derivation --store "$S" --offline "path:$S${m.flake.path}#${attr}"
# build with no substituters (the sandbox has no network)
nix-store --store "$S" --option substituters '' --realise ${m.drvPath}
\`\`\`

Or into the normal store, with the archive as the only substituter:

\`\`\`sh
nix-store --option substituters "file://$A/${m.cache}" --option require-sigs false --realise ${m.drvPath}
\`\`\`

The archive action's \`verify: true\` runs the first recipe and compares the result with \`outputs\` above.
`;
}
