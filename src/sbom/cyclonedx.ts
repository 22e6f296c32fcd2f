// Subpath imports: the package's root index also pulls in XML and validation code we do not use.
import * as Enums from '@cyclonedx/cyclonedx-library/Enums';
import * as Models from '@cyclonedx/cyclonedx-library/Models';
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize';
import * as Spec from '@cyclonedx/cyclonedx-library/Spec';
import type { Component, SbomModel, SourceInfo } from './model.js';
import { TOOL_NAME } from './model.js';
import { contentUuid } from './reproducible.js';

/**
 * CycloneDX 1.6 JSON through @cyclonedx/cyclonedx-library. Lists are sorted by the
 * library, the serial number is derived from the content, and the timestamp is
 * the reproducible one, so the same model always gives the same bytes.
 */
const HASH_ALGS: Record<string, Enums.HashAlgorithm> = {
  md5: Enums.HashAlgorithm.MD5,
  sha1: Enums.HashAlgorithm['SHA-1'],
  sha256: Enums.HashAlgorithm['SHA-256'],
  sha512: Enums.HashAlgorithm['SHA-512'],
};

const TYPES: Record<Component['kind'], Enums.ComponentType> = {
  application: Enums.ComponentType.Application,
  container: Enums.ComponentType.Container,
  library: Enums.ComponentType.Library,
  file: Enums.ComponentType.File,
  source: Enums.ComponentType.File,
};

export function cyclonedxJson(model: SbomModel, options: { space?: number } = {}): string {
  const bom = new Models.Bom();
  const { info } = model;
  const md = bom.metadata;
  md.timestamp = new Date(info.timestamp * 1000);
  md.lifecycles.add(Enums.LifecyclePhase.Build);
  md.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, TOOL_NAME, { version: info.toolVersion, group: 'vig-os' }),
  );
  md.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'nix', { version: info.nixVersion, group: 'nixos' }));
  md.authors.add(new Models.OrganizationalContact({ name: info.author.name }));
  md.supplier = entity(info.supplier);
  md.properties.add(new Models.Property('nix:sbom:scope', info.scope));
  md.properties.add(new Models.Property('nix:sbom:subject', info.subject));
  md.properties.add(new Models.Property('nix:sbom:timestamp-source', info.timestampSource));

  const made = new Map<string, Models.Component>();
  const root = toCdx(model.root);
  root.supplier = entity(info.supplier);
  md.component = root;
  made.set(model.root.ref, root);
  for (const c of model.components) {
    const m = toCdx(c);
    made.set(c.ref, m);
    bom.components.add(m);
  }
  for (const c of [model.root, ...model.components]) {
    const m = made.get(c.ref)!;
    for (const d of new Set([...c.dependsOn, ...c.buildDependsOn])) {
      const dep = made.get(d);
      if (dep) m.dependencies.add(dep.bomRef);
    }
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  // The serial is a hash of the (compact) document without it, then set: deterministic,
  // content-bound, and the same whether the file is pretty-printed or compact.
  const serial = contentUuid(serializer.serialize(bom, { sortLists: true, space: 0 }));
  bom.serialNumber = `urn:uuid:${serial}`;
  return `${serializer.serialize(bom, { sortLists: true, space: options.space ?? 2 })}\n`;
}

function entity(e: { name: string; url?: string }): Models.OrganizationalEntity {
  return new Models.OrganizationalEntity({ name: e.name, url: e.url ? new Set([e.url]) : undefined });
}

function toCdx(c: Component): Models.Component {
  const m = new Models.Component(TYPES[c.kind], c.name, {
    bomRef: c.ref,
    version: c.version || undefined,
    purl: c.purl,
    description: c.description,
  });
  if (c.narHash) m.hashes.set(Enums.HashAlgorithm['SHA-256'], c.narHash.hex);
  if (c.cpe) {
    try {
      m.cpe = c.cpe;
    } catch {
      m.properties.add(new Models.Property('nix:meta:cpe', c.cpe)); // not a well-formed CPE: keep it, as text
    }
  }
  for (const l of c.licenses) {
    if (l.spdxId) m.licenses.add(new Models.SpdxLicense(l.spdxId, { url: l.url }));
    else m.licenses.add(new Models.NamedLicense(l.name!, { url: l.url }));
  }
  if (c.homepage) m.externalReferences.add(new Models.ExternalReference(c.homepage, Enums.ExternalReferenceType.Website));
  const sourceRef = (s: SourceInfo, type: Enums.ExternalReferenceType) => {
    const alg = HASH_ALGS[s.algo];
    for (const url of s.urls) {
      m.externalReferences.add(
        new Models.ExternalReference(url, type, {
          hashes: alg && s.mode === 'flat' ? new Models.HashDictionary([[alg, s.hashHex]]) : undefined,
          comment: `fetched by ${s.storePath} (${s.mode} ${s.algo}:${s.hashHex})`,
        }),
      );
    }
  };
  for (const s of c.sources) sourceRef(s, Enums.ExternalReferenceType.SourceDistribution);
  if (c.fetched) sourceRef(c.fetched, Enums.ExternalReferenceType.Distribution);
  if (c.flakeInput) {
    const f = c.flakeInput;
    const url = f.type === 'github' ? `https://github.com/${f.owner}/${f.repo}` : f.type === 'gitlab' ? `https://gitlab.com/${f.owner}/${f.repo}` : f.url;
    if (url) m.externalReferences.add(new Models.ExternalReference(url, Enums.ExternalReferenceType.VCS));
  }
  const prop = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') m.properties.add(new Models.Property(name, String(value)));
  };
  prop('nix:store-path', c.storePath);
  prop('nix:deriver', c.deriver);
  prop('nix:output', c.output);
  prop('nix:nar-hash', c.narHash?.sri);
  prop('nix:nar-size', c.narSize);
  prop('nix:runtime', c.storePath ? String(c.runtime) : undefined);
  for (const s of c.sources) prop('nix:source', `${s.storePath} ${s.mode} ${s.algo}:${s.hashHex}`);
  if (c.fetched) prop('nix:fixed-output', `${c.fetched.mode} ${c.fetched.algo}:${c.fetched.hashHex}`);
  prop('cdx:lifecycle:milestone:endOfSupport', c.endOfSupport);
  if (c.flakeInput) {
    prop('nix:flake:input', c.flakeInput.inputPath);
    prop('nix:flake:type', c.flakeInput.type);
    prop('nix:flake:rev', c.flakeInput.rev);
    prop('nix:flake:ref', c.flakeInput.ref);
    prop('nix:flake:lastModified', c.flakeInput.lastModified);
  }
  return m;
}
