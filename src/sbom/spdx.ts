import { licenseRef, spdxExpression } from './license.js';
import type { Component, SbomModel } from './model.js';
import { TOOL_NAME } from './model.js';
import { contentUuid, isoSeconds } from './reproducible.js';

/**
 * SPDX 2.3 JSON. Keys are written in a fixed order and every list is sorted, so
 * the same model gives the same bytes. Runtime references become DEPENDS_ON;
 * build inputs (scope buildtime) and flake inputs become BUILD_DEPENDENCY_OF.
 */
const PURPOSE: Record<Component['kind'], string> = {
  application: 'APPLICATION',
  container: 'CONTAINER',
  library: 'LIBRARY',
  file: 'FILE',
  source: 'SOURCE',
};

export function spdxId(c: Component): string {
  if (c.storePath) {
    const base = c.storePath.slice('/nix/store/'.length);
    return `SPDXRef-${base.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  }
  return `SPDXRef-${c.ref.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

export function spdxJson(model: SbomModel, options: { space?: number } = {}): string {
  const { info } = model;
  const all = [model.root, ...model.components];
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const c of all) {
    // Store-path ids are unique by their hash; a flake input path could collide once sanitised.
    let id = spdxId(c);
    for (let n = 2; taken.has(id); n++) id = `${spdxId(c)}-${n}`;
    taken.add(id);
    ids.set(c.ref, id);
  }
  const extracted = new Map<string, { licenseId: string; extractedText: string; name: string; seeAlsos?: string[] }>();
  for (const c of all) {
    for (const l of c.licenses) {
      if (l.spdxId) continue;
      const id = licenseRef(l.name!);
      extracted.set(id, {
        licenseId: id,
        extractedText: `The license named "${l.name}" in the package's Nix metadata (the text is not part of the metadata)`,
        name: l.name!,
        ...(l.url ? { seeAlsos: [l.url] } : {}),
      });
    }
  }
  const packages = all.map((c) => spdxPackage(c, ids.get(c.ref)!, c === model.root ? info.supplier.name : undefined));
  const rels: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [];
  rels.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: ids.get(model.root.ref)! });
  for (const c of all) {
    for (const d of c.dependsOn) if (ids.has(d)) rels.push({ spdxElementId: ids.get(c.ref)!, relationshipType: 'DEPENDS_ON', relatedSpdxElement: ids.get(d)! });
    for (const d of c.buildDependsOn) {
      if (ids.has(d)) rels.push({ spdxElementId: ids.get(d)!, relationshipType: 'BUILD_DEPENDENCY_OF', relatedSpdxElement: ids.get(c.ref)! });
    }
    if (c.flakeInput) rels.push({ spdxElementId: ids.get(c.ref)!, relationshipType: 'BUILD_DEPENDENCY_OF', relatedSpdxElement: ids.get(model.root.ref)! });
  }
  const key = (r: (typeof rels)[number]) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`;
  rels.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

  const body = (namespace: string) => ({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${model.root.name}${model.root.version ? `-${model.root.version}` : ''} (${info.scope})`,
    documentNamespace: namespace,
    creationInfo: {
      created: isoSeconds(info.timestamp),
      creators: [`Tool: ${TOOL_NAME}-${info.toolVersion}`, `Tool: nix-${info.nixVersion}`, `Organization: ${oneLine(info.author.name)}`],
      comment: `Scope: ${info.scope}. Timestamp from ${info.timestampSource}. Checksums are SHA-256 of each store path's NAR serialisation.`,
    },
    packages,
    ...(extracted.size ? { hasExtractedLicensingInfos: [...extracted.values()].sort((a, b) => (a.licenseId < b.licenseId ? -1 : 1)) } : {}),
    relationships: rels,
  });
  // documentNamespace must be unique per document: derive it from the content, like CycloneDX's serial.
  const provisional = JSON.stringify(body(''));
  const ns = `${info.namespaceBase.replace(/\/$/, '')}/sbom/${encodeURIComponent(model.root.name)}-${contentUuid(provisional)}`;
  return `${JSON.stringify(body(ns), null, options.space ?? 2)}\n`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function spdxPackage(c: Component, id: string, supplier: string | undefined) {
  const firstUrl = c.fetched?.urls[0] ?? c.sources.flatMap((s) => s.urls)[0] ?? (c.flakeInput?.url && /^[a-z+]+:\/\//.test(c.flakeInput.url) ? c.flakeInput.url : undefined);
  const expr = spdxExpression(c.licenses);
  const comment: string[] = [];
  if (c.storePath) comment.push(`store path: ${c.storePath}`);
  if (c.deriver) comment.push(`deriver: ${c.deriver}`);
  if (c.output) comment.push(`output: ${c.output}`);
  if (c.narSize !== undefined) comment.push(`NAR size: ${c.narSize}`);
  if (c.storePath) comment.push(`runtime: ${c.runtime}`);
  if (c.flakeInput) comment.push(`flake input: ${c.flakeInput.inputPath} (${c.flakeInput.type})${c.flakeInput.rev ? ` rev ${c.flakeInput.rev}` : ''}`);
  const sourceInfo = [...(c.fetched ? [c.fetched] : []), ...c.sources]
    .map((s) => `${s.urls.join(' ') || s.storePath} (${s.mode} ${s.algo}:${s.hashHex}, fixed-output ${s.storePath})`)
    .join('; ');
  const refs: { referenceCategory: string; referenceType: string; referenceLocator: string }[] = [
    { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl },
  ];
  if (c.cpe && !/\s/.test(c.cpe)) refs.push({ referenceCategory: 'SECURITY', referenceType: c.cpe.startsWith('cpe:2.3:') ? 'cpe23Type' : 'cpe22Type', referenceLocator: c.cpe });
  return {
    SPDXID: id,
    name: c.name,
    ...(c.version ? { versionInfo: c.version } : {}),
    supplier: supplier ? `Organization: ${oneLine(supplier)}` : 'NOASSERTION',
    downloadLocation: firstUrl ?? 'NOASSERTION',
    filesAnalyzed: false,
    ...(c.narHash ? { checksums: [{ algorithm: 'SHA256', checksumValue: c.narHash.hex }] } : {}),
    ...(c.homepage ? { homepage: c.homepage } : {}),
    ...(sourceInfo ? { sourceInfo } : {}),
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: expr ?? 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    ...(c.description ? { description: c.description } : {}),
    comment: comment.join('; '),
    externalRefs: refs,
    primaryPackagePurpose: PURPOSE[c.kind],
    ...(c.endOfSupport ? { validUntilDate: `${c.endOfSupport}T00:00:00Z` } : {}),
  };
}
