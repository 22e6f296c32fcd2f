import { isFixedOutput, parseDrvName, parseNixHash, parseStorePath, toHex, toSri, type Derivation, type PathInfo } from '../nix/index.js';
import type { NixFacts } from './collect.js';
import { licensesFromMeta } from './license.js';
import type { Component, ComponentKind, DocumentInfo, FlakeInputInfo, SbomModel, SourceInfo } from './model.js';
import { nixPurl, purl } from './purl.js';

/**
 * Turns what Nix reported into the component model: one component per store path
 * (runtime closure, plus every build input for scope buildtime), one per locked
 * flake input. Pure: no Nix calls here, so it is testable and fast.
 */
export function buildModel(facts: NixFacts, info: DocumentInfo, options: { rootKind: 'container' | 'application' }): SbomModel {
  // Output path -> [derivation, output name], for paths whose deriver we know.
  const producedBy = new Map<string, [Derivation, string]>();
  for (const d of facts.derivations.values()) {
    for (const [name, o] of Object.entries(d.outputs)) if (o.path) producedBy.set(o.path, [d, name]);
  }
  const byRef = new Map<string, Component>();
  const rootPath = facts.rootPaths[0];

  const make = (path: string, pinfo: PathInfo | undefined, runtime: boolean): Component => {
    const parsed = parseStorePath(path);
    const viaDeriver = pinfo?.deriver ? facts.derivations.get(pinfo.deriver) : undefined;
    const produced = producedBy.get(path);
    const drv = produced?.[0] ?? viaDeriver;
    const output = produced?.[1] ?? (drv ? Object.entries(drv.outputs).find(([, o]) => o.path === path)?.[0] : undefined) ?? parsed.output;
    let name = parsed.name;
    let version = parsed.version;
    if (drv?.env.pname) {
      name = drv.env.pname;
      version = drv.env.version ?? '';
    } else if (drv) {
      ({ name, version } = parseDrvName(drv.name));
    }
    const fetched = drv && isFixedOutput(drv) ? sourceOf(drv) : undefined;
    const sources: SourceInfo[] = [];
    if (drv) {
      for (const input of Object.keys(drv.inputDrvs).sort()) {
        const dep = facts.derivations.get(input);
        if (dep && isFixedOutput(dep)) sources.push(sourceOf(dep));
      }
    }
    let kind: ComponentKind = 'library';
    if (path === rootPath) kind = options.rootKind;
    else if (fetched) kind = runtime ? 'file' : 'source';
    else if (!drv) kind = 'file';
    const nar = pinfo?.narHash ? parseNixHash(pinfo.narHash) : undefined;
    return {
      ref: path,
      kind,
      name,
      version,
      output,
      storePath: path,
      deriver: pinfo?.deriver ?? drv?.drvPath,
      narHash: nar ? { hex: toHex(nar), sri: toSri(nar) } : undefined,
      narSize: pinfo?.narSize,
      purl: nixPurl(name, version, output, path),
      licenses: [],
      sources,
      fetched,
      dependsOn: (pinfo?.references ?? []).filter((r) => r !== path),
      buildDependsOn: [],
      runtime,
    };
  };

  for (const [path, pinfo] of facts.closure) byRef.set(path, make(path, pinfo, true));
  for (const path of facts.missing) if (!byRef.has(path)) byRef.set(path, make(path, undefined, true));
  const imageRoot = byRef.get(rootPath);
  if (imageRoot && facts.imageFormat) imageRoot.dependsOn = [...new Set([...imageRoot.dependsOn, ...facts.missing])];
  for (const [path, pinfo] of facts.buildPaths) if (!byRef.has(path)) byRef.set(path, make(path, pinfo, false));

  if (info.scope === 'buildtime') {
    for (const c of byRef.values()) {
      const produced = producedBy.get(c.ref);
      const drv = produced?.[0] ?? (c.deriver ? facts.derivations.get(c.deriver) : undefined);
      if (!drv) continue;
      const deps = new Set<string>();
      for (const [input, outs] of Object.entries(drv.inputDrvs)) {
        const dep = facts.derivations.get(input);
        for (const o of outs) {
          const p = dep?.outputs[o]?.path;
          if (p && byRef.has(p)) deps.add(p);
        }
      }
      for (const s of drv.inputSrcs) if (byRef.has(s)) deps.add(s);
      deps.delete(c.ref);
      c.buildDependsOn = [...deps].sort();
    }
  }

  const root = byRef.get(rootPath)!;
  if (facts.meta) applyMeta(root, facts.meta);
  byRef.delete(rootPath);
  for (const input of facts.flake?.inputs ?? []) {
    const c = flakeInputComponent(input);
    byRef.set(c.ref, c);
  }
  for (const c of byRef.values()) c.dependsOn = c.dependsOn.filter((r) => r === rootPath || byRef.has(r)).sort();
  root.dependsOn = root.dependsOn.filter((r) => byRef.has(r)).sort();
  const components = [...byRef.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { info, root, components };
}

function sourceOf(drv: Derivation): SourceInfo {
  const out = drv.outputs.out;
  const env = drv.env;
  const urls = (env.urls ?? env.url ?? '').split(/\s+/).filter(Boolean);
  let algo = out.hashAlgo ?? env.outputHashAlgo ?? 'sha256';
  let mode: SourceInfo['mode'] = env.outputHashMode === 'recursive' ? 'recursive' : 'flat';
  if (algo.startsWith('r:')) {
    mode = 'recursive';
    algo = algo.slice(2);
  } else if (algo.startsWith('text:')) {
    mode = 'text';
    algo = algo.slice(5);
  }
  if (out.method === 'nar') mode = 'recursive';
  const parsed = parseNixHash(out.hash ?? env.outputHash ?? '', algo);
  return { storePath: out.path ?? '', name: drv.name, urls, algo: parsed.algo, hashHex: toHex(parsed), mode };
}

function applyMeta(c: Component, meta: Record<string, unknown>): void {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  c.description = str(meta.description);
  c.homepage = str(Array.isArray(meta.homepage) ? meta.homepage[0] : meta.homepage);
  c.licenses = licensesFromMeta(meta.license);
  const ids = meta.identifiers as Record<string, unknown> | undefined;
  c.cpe = str(ids?.cpe) ?? str(meta.cpe);
}

function flakeInputComponent(input: FlakeInputInfo): Component {
  const name = input.repo ?? input.inputPath.split('/').pop()!;
  const version = input.rev ?? (input.lastModified !== undefined ? new Date(input.lastModified * 1000).toISOString().slice(0, 10) : '');
  let nar: { hex: string; sri: string } | undefined;
  if (input.narHash) {
    const h = parseNixHash(input.narHash);
    nar = { hex: toHex(h), sri: toSri(h) };
  }
  let p: string;
  if ((input.type === 'github' || input.type === 'gitlab') && input.owner && input.repo) {
    p = purl(input.type, input.repo, input.rev ?? '', {}, input.owner);
  } else {
    const vcs = input.type === 'git' && input.url ? `git+${input.url}${input.rev ? `@${input.rev}` : ''}` : undefined;
    p = purl('generic', name, input.rev ?? '', {
      vcs_url: vcs,
      download_url: vcs ? undefined : input.url,
      checksum: nar ? `sha256:${nar.hex}` : undefined,
    });
  }
  return {
    ref: `flake-input:${input.inputPath}`,
    kind: 'source',
    name,
    version,
    purl: p,
    narHash: nar,
    licenses: [],
    sources: [],
    dependsOn: [],
    buildDependsOn: [],
    runtime: false,
    flakeInput: input,
  };
}
