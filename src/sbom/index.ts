import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Log } from '../log.js';
import type { Nix } from '../nix/index.js';
import { collect, type NixFacts } from './collect.js';
import { buildModel } from './components.js';
import { cyclonedxJson } from './cyclonedx.js';
import { applyEndOfSupport, parseEndOfSupport } from './eos.js';
import type { SbomModel } from './model.js';
import { resolveTimestamp } from './reproducible.js';
import { spdxJson } from './spdx.js';
import { summaryMarkdown } from './summary.js';
import { assertValid, validateCycloneDx, validateSpdx } from './validate.js';

export * from './model.js';
export { collect, flakeRefOf, lockedInputs } from './collect.js';
export { buildModel } from './components.js';
export { cyclonedxJson } from './cyclonedx.js';
export { spdxJson } from './spdx.js';
export { validateCycloneDx, validateSpdx } from './validate.js';
export { parseEndOfSupport } from './eos.js';
export { contentUuid, resolveTimestamp } from './reproducible.js';

export const FORMATS = ['cyclonedx-json', 'spdx-json'] as const;
export type Format = (typeof FORMATS)[number];
export const FILE_NAMES: Record<Format, string> = { 'cyclonedx-json': 'sbom.cdx.json', 'spdx-json': 'sbom.spdx.json' };
/** The attestation size limit (actions/attest): a larger SBOM cannot be attested. */
export const MAX_BYTES = 16 * 1024 * 1024;

export interface SbomOptions {
  nix: Nix;
  log: Log;
  installable?: string;
  image?: string;
  drvPath?: string;
  metadataFrom?: string;
  scope: 'runtime' | 'buildtime';
  formats: string[];
  outputDir: string;
  supplier: { name: string; url?: string };
  author: { name: string; url?: string };
  /** Lines of `name=YYYY-MM-DD`. */
  endOfSupport?: string[];
  sourceDateEpoch?: string;
  workspace?: string;
  namespaceBase: string;
  toolVersion: string;
}

export interface SbomFile {
  format: Format;
  path: string;
  bytes: number;
  sha256: string;
}

export interface SbomResult {
  model: SbomModel;
  files: SbomFile[];
  /** Components listed, the described one included. */
  components: number;
  summary: string;
  /** Files over 16 MB (cannot be attested). */
  oversized: SbomFile[];
}

export function parseFormats(list: string[]): Format[] {
  if (list.length === 0) throw new InputError('format', `give at least one of ${FORMATS.join(', ')}`);
  const out: Format[] = [];
  for (const f of list) {
    if (!(FORMATS as readonly string[]).includes(f)) {
      throw new InputError('format', `expected ${FORMATS.join(' and/or ')}, got '${f.replace(/[\r\n]+/g, ' ').slice(0, 60)}'`);
    }
    if (!out.includes(f as Format)) out.push(f as Format);
  }
  return out;
}

/**
 * Renders and validates every format; throws (nothing written) when one fails.
 * Over `maxBytes` pretty-printed, a document is rendered as compact JSON: the same
 * document in fewer bytes, so it can still be attested.
 */
export function renderDocuments(model: SbomModel, formats: Format[], maxBytes = MAX_BYTES): { format: Format; text: string }[] {
  return formats.map((format) => {
    const render = (space: number) => (format === 'cyclonedx-json' ? cyclonedxJson(model, { space }) : spdxJson(model, { space }));
    let text = render(2);
    if (Buffer.byteLength(text) > maxBytes) text = render(0);
    const doc = JSON.parse(text);
    assertValid(format === 'cyclonedx-json' ? 'CycloneDX 1.6' : 'SPDX 2.3', format === 'cyclonedx-json' ? validateCycloneDx(doc) : validateSpdx(doc));
    return { format, text };
  });
}

/** Collects from Nix, builds the model, renders, validates, then writes. Nothing is written unless all formats validate. */
export async function generateSbom(o: SbomOptions): Promise<SbomResult> {
  const formats = parseFormats(o.formats);
  const eos = parseEndOfSupport(o.endOfSupport ?? []);
  const facts: NixFacts = await collect({
    nix: o.nix,
    log: o.log,
    scope: o.scope,
    installable: o.installable,
    image: o.image,
    drvPath: o.drvPath,
    metadataFrom: o.metadataFrom,
  });
  const ts = await resolveTimestamp({ sourceDateEpoch: o.sourceDateEpoch, workspace: o.workspace, flakeLastModified: facts.flake?.lastModified });
  if (!ts.reproducible) {
    o.log.warning('No SOURCE_DATE_EPOCH, commit or flake timestamp: the SBOM carries the current time and two runs will differ. Check out the repository first or set SOURCE_DATE_EPOCH');
  }
  const model = buildModel(
    facts,
    {
      subject: o.image ?? o.installable ?? facts.rootPaths[0],
      supplier: o.supplier,
      author: o.author,
      timestamp: ts.seconds,
      timestampSource: ts.source,
      scope: o.scope,
      nixVersion: o.nix.version,
      toolVersion: o.toolVersion,
      namespaceBase: o.namespaceBase,
    },
    { rootKind: o.image ? 'container' : 'application' },
  );
  applyEndOfSupport([model.root, ...model.components], eos);

  const rendered = renderDocuments(model, formats);
  mkdirSync(o.outputDir, { recursive: true });
  const files: SbomFile[] = [];
  for (const r of rendered) {
    const path = join(o.outputDir, FILE_NAMES[r.format]);
    writeFileSync(path, r.text);
    files.push({ format: r.format, path, bytes: Buffer.byteLength(r.text), sha256: createHash('sha256').update(r.text).digest('hex') });
  }
  const oversized = files.filter((f) => f.bytes > MAX_BYTES);
  for (const f of oversized) {
    o.log.warning(`${f.path} is ${(f.bytes / 1024 / 1024).toFixed(1)} MiB, over the 16 MiB attestation limit even as compact JSON: the closure has ${model.components.length + 1} components. It is complete and uploaded, but cannot be attested; scope: runtime keeps it smaller`);
  }
  return { model, files, components: model.components.length + 1, summary: summaryMarkdown(model, files), oversized };
}
