import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { Nix } from '../../src/nix/index.js';
import { generateSbom, validateCycloneDx, validateSpdx, type SbomOptions } from '../../src/sbom/index.js';
import { commitAll, git, initRepo } from '../helpers/git.js';
import { nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { buildOut, contentPaths, writeImageFlake, IMAGE_PACKAGES, type ImageFlake } from '../helpers/images.js';

/**
 * Real Nix on an offline flake with a known graph:
 *
 *   app-2.0.1 (meta: license, homepage, description, CPE)
 *     -> tool-0.9 -> libfoo-1.2.3 (lib)        tool is built from hello-src (fixed-output, urls)
 *     -> libfoo-1.2.3 (dev) -> libfoo (out) -> libfoo (lib)     three outputs of one derivation
 *     -> config (no version)
 *     -> font-2.0.ttf (fixed-output, `url`, referenced at runtime)
 *   gen-3.1 is used to build app but not referenced (build-time only)
 *   flake input `dep`: a git repository (rev, narHash)
 */
const env = nixEnv();
const s = salt();
const srcText = `hello source ${s}`;
const fontText = `font ${s}`;
const sha = (t: string | Buffer) => createHash('sha256').update(t).digest('hex');
const depRepo = initRepo();

let nix: Nix;
let flake: string;
let depRev: string;
let appOut: string;
const tmp = () => mkdtempSync(join(tmpdir(), 'sbom-test-'));

beforeAll(async () => {
  nix = await Nix.detect({ env });
  execFileSync('sh', ['-c', 'echo "{ outputs = { self }: { lib.x = 1; }; }" > flake.nix'], { cwd: depRepo });
  depRev = commitAll(depRepo, 'dep', '2024-03-01T12:00:00Z');
  flake = writeFlake(
    `let
      src = mkWith { name = "hello-src-1.0.tar"; outputHashMode = "flat"; outputHashAlgo = "sha256";
        outputHash = "${sha(srcText)}"; urls = [ "https://example.org/hello-1.0.tar" "https://mirror.example.org/hello-1.0.tar" ];
        args = [ "-c" "printf '${srcText}' > $out" ]; };
      font = mkWith { name = "font-2.0.ttf"; outputHashMode = "flat"; outputHashAlgo = "sha256";
        outputHash = "${sha(fontText)}"; url = "https://fonts.example.org/font-2.0.ttf";
        args = [ "-c" "printf '${fontText}' > $out" ]; };
      libfoo = mkWith { name = "libfoo-1.2.3"; pname = "libfoo"; version = "1.2.3"; outputs = [ "out" "dev" "lib" ];
        args = [ "-c" "mkdir $out $dev $lib; echo ${s} > $lib/libfoo.so; echo $lib > $out/ref; echo $out > $dev/ref" ]; };
      tool = mkWith { name = "tool-0.9"; inherit src;
        args = [ "-c" "cat $src > /dev/null; mkdir -p $out/bin; echo \${libfoo.lib} > $out/bin/tool" ]; };
      config = mk "config" "echo ${s} > $out";
      gen = mk "gen-3.1" "echo generator ${s} > $out";
      app = (mkWith { name = "app-2.0.1"; pname = "app"; version = "2.0.1";
        args = [ "-c" "cat \${gen} > /dev/null; mkdir $out; echo \${tool} \${libfoo.dev} \${config} \${font} > $out/ref" ]; }) // {
        meta = { description = "The app | with a pipe"; homepage = "https://example.org/app";
          license = [ { spdxId = "Apache-2.0"; shortName = "asl20"; } { fullName = "Example Proprietary License"; free = false; } ];
          identifiers.cpe = "cpe:2.3:a:vig-os:app:2.0.1:*:*:*:*:*:*:*"; };
      };
    in { packages.\${system} = { default = app; inherit app tool libfoo; }; }`,
    { inputs: `dep.url = "git+file://${depRepo}";` },
  );
  appOut = buildOut(`path:${flake}#app`);
});

function options(over: Partial<SbomOptions> = {}): SbomOptions {
  return {
    nix,
    log: recordingLog(),
    installable: `path:${flake}#app`,
    scope: 'runtime',
    formats: ['cyclonedx-json', 'spdx-json'],
    outputDir: tmp(),
    supplier: { name: 'vig-os', url: 'https://github.com/vig-os' },
    author: { name: 'vig-os' },
    sourceDateEpoch: '1700000000',
    namespaceBase: 'https://github.com/vig-os/example',
    toolVersion: '0.1.0',
    ...over,
  };
}

const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const q = (...args: string[]) => execFileSync('nix-store', args, { env, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
const prop = (c: any, name: string) => (c.properties ?? []).filter((p: any) => p.name === name).map((p: any) => p.value);

describe('sbom of an installable (runtime scope)', () => {
  let cdx: any;
  let spdx: any;
  let all: any[];
  beforeAll(async () => {
    const r = await generateSbom(options());
    cdx = read(r.files[0].path);
    spdx = read(r.files[1].path);
    all = [cdx.metadata.component, ...cdx.components];
    expect(r.components).toBe(all.length);
  });

  it('lists every store path of the runtime closure exactly once, and nothing else from the store', () => {
    const closure = q('-qR', appOut);
    const listed = all.map((c) => prop(c, 'nix:store-path')[0]).filter(Boolean).sort();
    expect(listed).toEqual(closure);
    expect(new Set(all.map((c) => c['bom-ref'])).size).toBe(all.length);
    expect(cdx.metadata.component['bom-ref']).toBe(appOut);
    // SPDX: the same paths, once each
    const spdxPaths = spdx.packages.map((p: any) => /store path: (\S+);/.exec(p.comment)?.[1]).filter(Boolean).sort();
    expect(spdxPaths).toEqual(closure);
  });

  it('takes names and versions from the derivation, outputs from its output table', () => {
    const byPath = new Map(all.map((c) => [prop(c, 'nix:store-path')[0], c]));
    const libfoo = all.filter((c) => c.name === 'libfoo');
    expect(libfoo.map((c) => [c.version, prop(c, 'nix:output')[0]]).sort()).toEqual([['1.2.3', 'dev'], ['1.2.3', 'lib'], ['1.2.3', 'out']]);
    const app = byPath.get(appOut)!;
    expect([app.name, app.version, app.type]).toEqual(['app', '2.0.1', 'application']);
    const names = all.map((c) => `${c.name}@${c.version ?? ''}`).sort();
    expect(names).toEqual(['app@2.0.1', 'config@', 'font@2.0.ttf', 'libfoo@1.2.3', 'libfoo@1.2.3', 'libfoo@1.2.3', 'tool@0.9'].concat(['dep@' + depRev]).sort());
    const lib = libfoo.find((c) => prop(c, 'nix:output')[0] === 'lib');
    expect(lib.purl).toBe(`pkg:nix/libfoo@1.2.3?output=lib&store_path=${encodeURIComponent(prop(lib, 'nix:store-path')[0])}`);
    expect(prop(app, 'nix:deriver')[0]).toMatch(/-app-2\.0\.1\.drv$/);
  });

  it('gives each path the SHA-256 of its NAR, as nix-store --dump computes it', () => {
    for (const c of all.filter((x) => prop(x, 'nix:store-path').length)) {
      const dump = execFileSync('nix-store', ['--dump', prop(c, 'nix:store-path')[0]], { env, maxBuffer: 1 << 26 });
      expect(c.hashes).toEqual([{ alg: 'SHA-256', content: sha(dump) }]);
    }
  });

  it('has the dependency graph of the real references', () => {
    const deps = new Map(cdx.dependencies.map((d: any) => [d.ref, (d.dependsOn ?? []).slice().sort()]));
    for (const path of q('-qR', appOut)) {
      const refs = q('-q', '--references', path).filter((r) => r !== path);
      expect([path, deps.get(path) ?? []]).toEqual([path, refs]);
    }
    const ids = new Map(spdx.packages.map((p: any) => [p.SPDXID, /store path: (\S+);/.exec(p.comment)?.[1]]));
    const spdxEdges = spdx.relationships
      .filter((r: any) => r.relationshipType === 'DEPENDS_ON')
      .map((r: any) => `${ids.get(r.spdxElementId)} ${ids.get(r.relatedSpdxElement)}`)
      .sort();
    const nixEdges = q('-qR', appOut).flatMap((p) => q('-q', '--references', p).filter((r) => r !== p).map((r) => `${p} ${r}`)).sort();
    expect(spdxEdges).toEqual(nixEdges);
    expect(spdx.relationships).toContainEqual({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: `SPDXRef-${appOut.slice(11)}` });
  });

  it('records fixed-output sources with their URLs and verified hashes', () => {
    const tool = all.find((c) => c.name === 'tool');
    const srcRefs = tool.externalReferences.filter((e: any) => e.type === 'source-distribution');
    expect(srcRefs.map((e: any) => e.url).sort()).toEqual(['https://example.org/hello-1.0.tar', 'https://mirror.example.org/hello-1.0.tar']);
    for (const e of srcRefs) expect(e.hashes).toEqual([{ alg: 'SHA-256', content: sha(srcText) }]);
    const font = all.find((c) => c.name === 'font');
    expect(font.type).toBe('file');
    expect(font.externalReferences).toEqual([
      expect.objectContaining({ type: 'distribution', url: 'https://fonts.example.org/font-2.0.ttf', hashes: [{ alg: 'SHA-256', content: sha(fontText) }] }),
    ]);
    const spdxTool = spdx.packages.find((p: any) => p.name === 'tool');
    expect(spdxTool.downloadLocation).toBe('https://example.org/hello-1.0.tar');
    expect(spdxTool.sourceInfo).toContain(`flat sha256:${sha(srcText)}`);
  });

  it('carries the flake attribute meta: licenses, homepage, description, CPE', () => {
    const app = cdx.metadata.component;
    // The library sorts licenses by kind (named before SPDX id).
    expect(app.licenses).toEqual([{ license: { name: 'Example Proprietary License' } }, { license: { id: 'Apache-2.0' } }]);
    expect(app.description).toBe('The app | with a pipe');
    expect(app.cpe).toBe('cpe:2.3:a:vig-os:app:2.0.1:*:*:*:*:*:*:*');
    expect(app.externalReferences).toContainEqual({ type: 'website', url: 'https://example.org/app' });
    expect(app.supplier).toEqual({ name: 'vig-os', url: ['https://github.com/vig-os'] });
    const p = spdx.packages.find((x: any) => x.name === 'app');
    expect(p.licenseDeclared).toBe('Apache-2.0 AND LicenseRef-Example-Proprietary-License');
    expect(spdx.hasExtractedLicensingInfos.map((l: any) => l.licenseId)).toEqual(['LicenseRef-Example-Proprietary-License']);
    expect(p.externalRefs).toContainEqual({ referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: app.cpe });
    expect(p.supplier).toBe('Organization: vig-os');
  });

  it('lists the locked flake inputs with rev and narHash', () => {
    const dep = cdx.components.find((c: any) => c['bom-ref'] === 'flake-input:dep');
    const lock = JSON.parse(readFileSync(join(flake, 'flake.lock'), 'utf8')).nodes.dep.locked;
    expect(lock.rev).toBe(depRev);
    expect(dep.version).toBe(depRev);
    expect(prop(dep, 'nix:flake:rev')).toEqual([depRev]);
    expect(dep.hashes[0].alg).toBe('SHA-256');
    expect(Buffer.from(dep.hashes[0].content, 'hex').toString('base64')).toBe(lock.narHash.replace(/^sha256-/, ''));
    expect(dep.purl).toBe(`pkg:generic/dep@${depRev}?checksum=${encodeURIComponent(`sha256:${dep.hashes[0].content}`)}&vcs_url=${encodeURIComponent(`git+file://${depRepo}@${depRev}`)}`);
  });

  it('fills the document metadata: authors, supplier, timestamp, tools, lifecycle, serial', () => {
    expect(cdx.bomFormat).toBe('CycloneDX');
    expect(cdx.specVersion).toBe('1.6');
    expect(cdx.metadata.timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(cdx.metadata.lifecycles).toEqual([{ phase: 'build' }]);
    expect(cdx.metadata.authors).toEqual([{ name: 'vig-os' }]);
    expect(cdx.metadata.supplier.name).toBe('vig-os');
    expect(cdx.metadata.tools.components.map((t: any) => `${t.name}@${t.version}`).sort()).toEqual([`nix-actions-sbom@0.1.0`, `nix@${nix.version}`]);
    expect(cdx.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(spdx.creationInfo.created).toBe('2023-11-14T22:13:20Z');
    expect(spdx.creationInfo.creators).toContain('Organization: vig-os');
    expect(spdx.documentNamespace).toMatch(/^https:\/\/github\.com\/vig-os\/example\/sbom\/app-[0-9a-f-]{36}$/);
  });

  it('passes the CycloneDX 1.6 schema and the SPDX 2.3 rules, and those checks do reject a broken document', () => {
    expect(validateCycloneDx(cdx)).toEqual([]);
    expect(validateSpdx(spdx)).toEqual([]);
    const brokenCdx = structuredClone(cdx);
    brokenCdx.components[0].hashes[0].content = 'not-hex';
    expect(validateCycloneDx(brokenCdx).length).toBeGreaterThan(0);
    // uniqueItems (checked in O(n) by canonical JSON): the same component twice, keys in another order.
    const twice = structuredClone(cdx);
    const copy = Object.fromEntries(Object.entries(twice.components[1]).reverse());
    twice.components.push(copy);
    expect(validateCycloneDx(twice)).toEqual([expect.objectContaining({ path: '/components' })]);
    const distinct = structuredClone(cdx);
    distinct.components.push({ ...structuredClone(cdx.components[1]), 'bom-ref': 'another-ref' });
    expect(validateCycloneDx(distinct)).toEqual([]);
    const brokenSpdx = structuredClone(spdx);
    brokenSpdx.relationships.push({ spdxElementId: 'SPDXRef-nope', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'SPDXRef-DOCUMENT' });
    expect(validateSpdx(brokenSpdx)).toEqual([{ path: `/relationships/${spdx.relationships.length}/spdxElementId`, message: 'SPDXRef-nope is not an element of this document' }]);
  });
});

describe('reproducibility', () => {
  it('two runs give identical bytes; a different supplier gives a different serial', async () => {
    const a = await generateSbom(options());
    const b = await generateSbom(options());
    for (let i = 0; i < 2; i++) {
      expect(a.files[i].path).not.toBe(b.files[i].path);
      expect(readFileSync(b.files[i].path)).toEqual(readFileSync(a.files[i].path));
    }
    const c = await generateSbom(options({ supplier: { name: 'someone-else' } }));
    expect(read(c.files[0].path).serialNumber).not.toBe(read(a.files[0].path).serialNumber);
    expect(read(c.files[1].path).documentNamespace).not.toBe(read(a.files[1].path).documentNamespace);
  });

  it('without SOURCE_DATE_EPOCH the timestamp is the commit time of the workspace', async () => {
    const ws = initRepo();
    execFileSync('sh', ['-c', 'echo x > f'], { cwd: ws });
    commitAll(ws, 'c', '2025-06-01T08:30:00Z');
    const r = await generateSbom(options({ sourceDateEpoch: undefined, workspace: ws }));
    expect(read(r.files[0].path).metadata.timestamp).toBe('2025-06-01T08:30:00.000Z');
    expect(r.model.info.timestampSource).toMatch(/commit time/);
    expect(git(ws, 'log', '-1', '--format=%ct')).toBe(String(r.model.info.timestamp));
  });
});

describe('end of support', () => {
  it('marks the named components in both formats', async () => {
    const r = await generateSbom(options({ endOfSupport: ['libfoo=2030-01-31', 'app=2031-12-31'] }));
    const cdx = read(r.files[0].path);
    const spdx = read(r.files[1].path);
    const libfoo = cdx.components.filter((c: any) => c.name === 'libfoo');
    expect(libfoo).toHaveLength(3);
    for (const c of libfoo) expect(prop(c, 'cdx:lifecycle:milestone:endOfSupport')).toEqual(['2030-01-31']);
    expect(prop(cdx.metadata.component, 'cdx:lifecycle:milestone:endOfSupport')).toEqual(['2031-12-31']);
    expect(spdx.packages.filter((p: any) => p.validUntilDate === '2030-01-31T00:00:00Z').map((p: any) => p.name)).toEqual(['libfoo', 'libfoo', 'libfoo']);
    expect(validateSpdx(spdx)).toEqual([]);
    expect(validateCycloneDx(cdx)).toEqual([]);
  });

  it('a name no component has fails, and nothing is written', async () => {
    const out = tmp();
    const err = await generateSbom(options({ outputDir: out, endOfSupport: ['glibc=2030-01-31'] })).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^Input 'end-of-support': no component is named glibc/);
    expect(execFileSync('ls', ['-A', out], { encoding: 'utf8' })).toBe('');
  });
});

describe('buildtime scope', () => {
  it('adds every build input (sources, build-only derivations, builder inputs) exactly once, with build edges', async () => {
    const r = await generateSbom(options({ scope: 'buildtime' }));
    const cdx = read(r.files[0].path);
    const spdx = read(r.files[1].path);
    const all = [cdx.metadata.component, ...cdx.components];
    const paths = all.map((c) => prop(c, 'nix:store-path')[0]).filter(Boolean);
    expect(new Set(paths).size).toBe(paths.length);
    // Expected: the runtime closure plus every output or source any derivation of the graph reads.
    const drv = q('-q', '--deriver', appOut)[0];
    const graph = q('-qR', drv).filter((p) => p.endsWith('.drv'));
    const inputs = new Set<string>(q('-qR', appOut));
    for (const d of graph) {
      const j: any = Object.values(JSON.parse(execFileSync('nix', ['show-derivation', d], { env, encoding: 'utf8' })))[0];
      for (const [dep, outs] of Object.entries<any>(j.inputDrvs)) {
        const dj: any = Object.values(JSON.parse(execFileSync('nix', ['show-derivation', dep], { env, encoding: 'utf8' })))[0];
        for (const o of outs) inputs.add(dj.outputs[o].path);
      }
      for (const src of j.inputSrcs) inputs.add(src);
    }
    expect(paths.sort()).toEqual([...inputs].sort());
    const gen = all.find((c) => c.name === 'gen');
    expect(prop(gen, 'nix:runtime')).toEqual(['false']);
    const src = all.find((c) => c.name === 'hello-src');
    expect(src.type).toBe('file');
    expect(src.externalReferences[0]).toMatchObject({ type: 'distribution', url: 'https://example.org/hello-1.0.tar' });
    const ids = new Map(spdx.packages.map((p: any) => [p.name, p.SPDXID]));
    expect(spdx.relationships).toContainEqual({ spdxElementId: ids.get('gen'), relationshipType: 'BUILD_DEPENDENCY_OF', relatedSpdxElement: ids.get('app') });
    expect(spdx.relationships).toContainEqual({ spdxElementId: ids.get('hello-src'), relationshipType: 'BUILD_DEPENDENCY_OF', relatedSpdxElement: ids.get('tool') });
    expect(validateCycloneDx(cdx)).toEqual([]);
    expect(validateSpdx(spdx)).toEqual([]);
  });
});

describe('sbom of an image', () => {
  let img: ImageFlake;
  let pkgs: Record<string, string>;
  beforeAll(() => {
    img = writeImageFlake();
    pkgs = contentPaths(img);
  });

  it.each(['devcontainer', 'stream', 'oci-dir'])('%s: lists what is in the layers, not the tarball or its build tools', async (attr) => {
    const image = buildOut(img.installable(attr));
    const r = await generateSbom(options({ installable: undefined, image, metadataFrom: img.installable(attr) }));
    const cdx = read(r.files[0].path);
    expect(cdx.metadata.component['bom-ref']).toBe(image);
    expect(cdx.metadata.component.type).toBe('container');
    const listed = cdx.components.map((c: any) => c['bom-ref']).filter((x: string) => x.startsWith('/nix/store/')).sort();
    expect(listed).toEqual(Object.values(pkgs).sort());
    for (const p of IMAGE_PACKAGES) {
      const c = cdx.components.find((x: any) => x['bom-ref'] === pkgs[p.attr]);
      expect([c.name, c.version]).toEqual([p.name, p.version]);
      const deps = cdx.dependencies.find((d: any) => d.ref === pkgs[p.attr]).dependsOn ?? [];
      expect(deps).toEqual(p.references.map((a) => pkgs[a]));
    }
    // The image depends on the top of its contents: hello and cacert.
    expect(cdx.dependencies.find((d: any) => d.ref === image).dependsOn).toEqual([pkgs.cacert, pkgs.hello].sort());
    expect(validateCycloneDx(cdx)).toEqual([]);
    expect(validateSpdx(read(r.files[1].path))).toEqual([]);
  });
});

afterAll(() => {
  // Only our own paths: the app closure and its build inputs; failures (still referenced) are fine.
  try {
    execFileSync('nix-store', ['--delete', ...q('-qR', appOut).reverse()], { env, stdio: 'ignore' });
  } catch {
    /* best effort */
  }
});
