import { InputError, UserError } from '../../src/errors.js';
import { readContext } from '../../src/github/context.js';
import { normalizeDerivations, normalizePathInfo } from '../../src/nix/index.js';
import { buildModel, contentUuid, lockedInputs, parseEndOfSupport, resolveTimestamp, validateSpdx, type DocumentInfo } from '../../src/sbom/index.js';
import { parseFormats, renderDocuments } from '../../src/sbom/index.js';
import { licenseRef, licensesFromMeta, spdxExpression } from '../../src/sbom/license.js';
import { nixPurl, purl } from '../../src/sbom/purl.js';
import { assertAttestable, resolveAttestSubject, resolveParty, resolveTarget } from '../../src/sbom/defaults.js';
import { summaryMarkdown } from '../../src/sbom/summary.js';
import { spdxJson } from '../../src/sbom/spdx.js';
import { cyclonedxJson } from '../../src/sbom/cyclonedx.js';
import { validateCycloneDx } from '../../src/sbom/validate.js';

const P = (hash: string, name: string) => `/nix/store/${hash.repeat(32).slice(0, 32)}-${name}`;

describe('purl', () => {
  it('percent-encodes name and version, sorts qualifiers, drops empty ones', () => {
    expect(purl('generic', 'a b', '1.0+x', { z: '1', a: '/nix/store/x', e: undefined })).toBe('pkg:generic/a%20b@1.0%2Bx?a=%2Fnix%2Fstore%2Fx&z=1');
    expect(purl('github', 'repo', 'abc', {}, 'owner')).toBe('pkg:github/owner/repo@abc');
  });
  it('pkg:nix carries the store path and a non-default output', () => {
    const p = P('a', 'glibc-2.40-bin');
    expect(nixPurl('glibc', '2.40', 'bin', p)).toBe(`pkg:nix/glibc@2.40?output=bin&store_path=${encodeURIComponent(p)}`);
    expect(nixPurl('source', '', 'out', p)).toBe(`pkg:nix/source?store_path=${encodeURIComponent(p)}`);
  });
});

describe('licenses from meta', () => {
  it('keeps SPDX ids, names the rest, never guesses an id', () => {
    expect(licensesFromMeta({ spdxId: 'MIT', shortName: 'mit', url: 'https://spdx.org/licenses/MIT.html' })).toEqual([{ spdxId: 'MIT', url: 'https://spdx.org/licenses/MIT.html' }]);
    expect(licensesFromMeta('GPL-2.0-only')).toEqual([{ spdxId: 'GPL-2.0-only' }]);
    expect(licensesFromMeta('unfree')).toEqual([{ name: 'unfree' }]);
    expect(licensesFromMeta({ shortName: 'bsl11', fullName: 'Business Source License 1.1' })).toEqual([{ name: 'Business Source License 1.1' }]);
    expect(licensesFromMeta({ spdxId: 'Not-A-Real-Id' })).toEqual([{ name: 'Not-A-Real-Id' }]);
    expect(licensesFromMeta([{ spdxId: 'MIT' }, 'Apache-2.0', 42, null])).toEqual([{ spdxId: 'MIT' }, { spdxId: 'Apache-2.0' }]);
    expect(licensesFromMeta(undefined)).toEqual([]);
  });
  it('builds an AND expression with LicenseRefs that SPDX accepts', () => {
    expect(spdxExpression([{ spdxId: 'MIT' }, { name: 'Weird; $(rm -rf) | license\n' }])).toBe('MIT AND LicenseRef-Weird-rm-rf-license');
    expect(spdxExpression([])).toBeUndefined();
    expect(licenseRef('---')).toBe('LicenseRef-unnamed');
  });
});

describe('end-of-support input', () => {
  it('parses name=date lines', () => {
    expect([...parseEndOfSupport(['glibc=2030-06-30', 'openssl = 2028-02-29'])]).toEqual([['glibc', '2030-06-30'], ['openssl', '2028-02-29']]);
  });
  it.each([
    ['glibc 2030-06-30', /expected lines of name=YYYY-MM-DD/],
    ['-x=2030-01-01', /expected lines of name=YYYY-MM-DD/],
    ['::error::x=2030-01-01', /expected lines of name=YYYY-MM-DD/],
    ['a=2030-01-01; touch /tmp/x', /expected lines of name=YYYY-MM-DD/],
    ['glibc=2027-02-29', /'2027-02-29' for glibc is not a calendar date/],
    ['glibc=2030-13-01', /is not a calendar date/],
  ])('%j is rejected', (line, re) => {
    const e = (() => {
      try {
        parseEndOfSupport([line]);
      } catch (x) {
        return x as InputError;
      }
    })();
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toMatch(/^Input 'end-of-support': /);
    expect(e!.message).toMatch(re);
    expect(e!.oneLine).not.toContain('\n');
  });
  it('a name given twice is an error', () => {
    expect(() => parseEndOfSupport(['a=2030-01-01', 'a=2031-01-01'])).toThrow(/a is given twice/);
  });
});

describe('flake.lock inputs', () => {
  it('names each locked node once by the first input path, skipping follows', () => {
    const locks = {
      version: 7,
      root: 'root',
      nodes: {
        root: { inputs: { nixpkgs: 'nixpkgs', utils: 'utils', other: ['utils', 'nixpkgs'] } },
        nixpkgs: { locked: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: 'a'.repeat(40), narHash: 'sha256-AAAA', lastModified: 1 } },
        utils: { inputs: { systems: 'systems', nixpkgs: ['nixpkgs'] }, locked: { type: 'github', owner: 'numtide', repo: 'flake-utils', rev: 'b'.repeat(40) } },
        systems: { locked: { type: 'path', path: '/x', narHash: 'sha256-BBBB' } },
        orphan: { locked: { type: 'github', owner: 'x', repo: 'y' } },
      },
    };
    expect(lockedInputs(locks).map((i) => [i.inputPath, i.type, i.rev ?? i.url])).toEqual([
      ['nixpkgs', 'github', 'a'.repeat(40)],
      ['utils', 'github', 'b'.repeat(40)],
      ['utils/systems', 'path', 'path:/x'],
    ]);
    expect(lockedInputs(undefined)).toEqual([]);
  });
});

describe('reproducibility helpers', () => {
  it('contentUuid is stable, content-bound and RFC 4122 shaped', () => {
    expect(contentUuid('a')).toBe(contentUuid('a'));
    expect(contentUuid('a')).not.toBe(contentUuid('b'));
    expect(contentUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('SOURCE_DATE_EPOCH wins and must be a number', async () => {
    expect(await resolveTimestamp({ sourceDateEpoch: '1700000000', flakeLastModified: 5 })).toEqual({ seconds: 1700000000, source: 'SOURCE_DATE_EPOCH', reproducible: true });
    await expect(resolveTimestamp({ sourceDateEpoch: '17e8; rm -rf /' })).rejects.toThrow(UserError);
    expect(await resolveTimestamp({ flakeLastModified: 5, workspace: '/nonexistent-dir' })).toMatchObject({ seconds: 5, reproducible: true });
    expect(await resolveTimestamp({ now: () => 42_000 })).toEqual({ seconds: 42, source: 'clock (not reproducible)', reproducible: false });
  });
});

describe('defaults from the build step and the repository', () => {
  const img = P('i', 'devcontainer.tar.gz');
  const env = { NIX_ACTIONS_IMAGE: img, NIX_ACTIONS_INSTALLABLE: '.#devcontainer', NIX_ACTIONS_DRV_PATH: P('d', 'devcontainer.tar.gz.drv') };
  it('prefers the inputs, then the exported image (with its installable for meta), then the exported installable', () => {
    expect(resolveTarget({ installable: '.#x' }, env)).toEqual({ installable: '.#x' });
    expect(resolveTarget({}, env)).toEqual({ image: img, drvPath: env.NIX_ACTIONS_DRV_PATH, metadataFrom: '.#devcontainer' });
    expect(resolveTarget({ image: P('h', 'other') }, env)).toEqual({ image: P('h', 'other') });
    expect(resolveTarget({}, { NIX_ACTIONS_INSTALLABLE: '.#a' })).toEqual({ installable: '.#a' });
    expect(resolveTarget({}, {})).toEqual({});
    expect(() => resolveTarget({ installable: '.#a', image: img }, {})).toThrow(InputError);
  });
  it('supplier and author default to the repository owner, and must be one line', () => {
    const ctx = readContext({ GITHUB_REPOSITORY: 'vig-os/app', GITHUB_SERVER_URL: 'https://ghe.example.com/' });
    expect(resolveParty('supplier', '', ctx)).toEqual({ name: 'vig-os', url: 'https://ghe.example.com/vig-os' });
    expect(resolveParty('author', ' ACME GmbH ', ctx)).toEqual({ name: 'ACME GmbH' });
    expect(() => resolveParty('author', 'a\n::error::b', ctx)).toThrow(/^Input 'author': must be one line/);
    expect(() => resolveParty('supplier', '', readContext({}))).toThrow(/^Input 'supplier': is empty and GITHUB_REPOSITORY is not set/);
  });
  it('attest: checks the subject before any work, and ignores it when not attesting', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(resolveAttestSubject({ attest: false, subjectDigest: 'nonsense' })).toBeUndefined();
    expect(resolveAttestSubject({ attest: true, subjectName: ' ghcr.io/vig-os/app ', subjectDigest: digest })).toEqual({ name: 'ghcr.io/vig-os/app', digest });
    const fails = (subjectName: string | undefined, subjectDigest: string | undefined) => {
      try {
        resolveAttestSubject({ attest: true, subjectName, subjectDigest });
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).oneLine;
      }
      throw new Error('expected an InputError');
    };
    expect(fails('ghcr.io/x/y', undefined)).toMatch(/^Input 'subject-digest': attest: true needs the image digest as sha256:<64 hex digits>/);
    expect(fails('ghcr.io/x/y', `sha256:${'A'.repeat(64)}`)).toMatch(/^Input 'subject-digest'/);
    expect(fails('ghcr.io/x/y', `${digest}\n::error::x`)).toMatch(/^Input 'subject-digest'/);
    expect(fails('', digest)).toMatch(/^Input 'subject-name': attest: true needs the image name/);
    expect(fails('ghcr.io/x/y\n::error::pwned', digest)).toMatch(/^Input 'subject-name': must be an image name/);
    expect(fails('--help', digest)).toMatch(/^Input 'subject-name': must be an image name/);
    expect(fails('ghcr.io/x/y; rm -rf /', digest)).toMatch(/^Input 'subject-name': must be an image name/);
    expect(() => assertAttestable([])).not.toThrow();
    expect(() => assertAttestable([{ path: '/out/sbom.spdx.json' }])).toThrow(/^\/out\/sbom\.spdx\.json is over the 16 MiB attestation limit/);
  });
  it('formats: known ones only, at least one', () => {
    expect(parseFormats(['spdx-json', 'spdx-json'])).toEqual(['spdx-json']);
    expect(() => parseFormats([])).toThrow(/^Input 'format': give at least one/);
    expect(() => parseFormats(['cyclonedx-xml'])).toThrow(InputError);
  });
});

describe('the model from Nix JSON shapes (Nix 2.8 and newer)', () => {
  const src = P('s', 'foo-1.0.tar.gz');
  const srcDrv = P('g', 'foo-1.0.tar.gz.drv');
  const out = P('f', 'foo-1.0');
  const dev = P('v', 'foo-1.0-dev');
  const drv = P('r', 'foo-1.0.drv');
  const info: DocumentInfo = {
    subject: '.#foo', supplier: { name: 'ACME | Medical' }, author: { name: 'QA' }, timestamp: 1700000000, timestampSource: 'SOURCE_DATE_EPOCH',
    scope: 'runtime', nixVersion: '2.8.0', toolVersion: '0.1.0', namespaceBase: 'https://github.com/acme/foo',
  };
  // Newer Nix: objects keyed by path, bare names, hashes as {algorithm, hash}; recursive FOD as method nar.
  const derivations = normalizeDerivations({
    version: 4,
    derivations: {
      [drv.slice(11)]: { name: 'foo-1.0', outputs: { out: { path: out.slice(11) }, dev: { path: dev.slice(11) } }, inputs: { srcs: [], drvs: { [srcDrv.slice(11)]: { outputs: ['out'], dynamicOutputs: {} } } }, env: { pname: 'foo', version: '1.0' } },
      [srcDrv.slice(11)]: { name: 'foo-1.0.tar.gz', outputs: { out: { path: src.slice(11), method: 'nar', hashAlgo: 'sha256', hash: '1'.repeat(64) } }, inputs: { srcs: [], drvs: {} }, env: { urls: 'https://a.example/foo.tgz https://b.example/foo.tgz' } },
    },
  });
  const closure = new Map(
    normalizePathInfo({
      [out.slice(11)]: { narHash: { algorithm: 'sha256', hash: 'A'.repeat(43) + '=' }, narSize: 10, references: [dev.slice(11), out.slice(11)], deriver: drv.slice(11) },
      [dev.slice(11)]: { narHash: 'sha256:' + '0'.repeat(52), narSize: 20, references: [], deriver: drv.slice(11) },
    }).map((i) => [i.path, i]),
  );
  const model = buildModel(
    { rootPaths: [out], rootDrv: drv, closure, missing: [], derivations, buildPaths: new Map(), meta: { description: 'a | b\nc', license: 'unfree' } },
    info,
    { rootKind: 'application' },
  );

  it('names outputs from the derivation, records recursive fixed-output sources, drops self-references', () => {
    expect(model.root).toMatchObject({ name: 'foo', version: '1.0', output: 'out', dependsOn: [dev], narHash: { sri: `sha256-${'A'.repeat(43)}=` } });
    expect(model.root.sources).toEqual([{ storePath: src, name: 'foo-1.0.tar.gz', urls: ['https://a.example/foo.tgz', 'https://b.example/foo.tgz'], algo: 'sha256', hashHex: '1'.repeat(64), mode: 'recursive' }]);
    expect(model.components.map((c) => [c.name, c.version, c.output])).toEqual([['foo', '1.0', 'dev']]);
  });

  it('a recursive source hash is not claimed as the hash of the downloaded file', () => {
    const cdx = JSON.parse(cyclonedxJson(model));
    const refs = cdx.metadata.component.externalReferences.filter((e: any) => e.type === 'source-distribution');
    expect(refs).toHaveLength(2);
    for (const r of refs) expect(r.hashes).toBeUndefined();
    expect(validateCycloneDx(cdx)).toEqual([]);
  });

  it('the summary keeps metadata inside its table cells', () => {
    const md = summaryMarkdown(model, [{ format: 'spdx-json', path: '/w/sbom.spdx.json', bytes: 2048, sha256: 'f'.repeat(64) }]);
    expect(md).toContain('supplier ACME \\| Medical');
    expect(md).toMatch(/\| unfree \| 1 \|/);
    expect(md).toMatch(/\| license \| 1 \| foo \|/);
    expect(md).toMatch(/\| version \| 0 \| — \|/);
    expect(md).toContain('| `/w/sbom.spdx.json` | spdx-json | 2.0 KiB |');
  });

  it('SPDX rules: the generated document passes, each kind of mistake is named', () => {
    const doc = JSON.parse(spdxJson(model));
    expect(validateSpdx(doc)).toEqual([]);
    const broken = structuredClone(doc);
    broken.packages[0].checksums = [{ algorithm: 'SHA256', checksumValue: 'abc' }];
    broken.packages[1].SPDXID = 'SPDXRef-has space';
    broken.packages[0].licenseDeclared = 'LicenseRef-undeclared';
    broken.creationInfo.created = '2023-11-14';
    expect(validateSpdx(broken).map((p) => p.path)).toEqual(
      expect.arrayContaining(['/packages/0/checksums/0/checksumValue', '/packages/1/SPDXID', '/packages/0/licenseDeclared', '/creationInfo/created']),
    );
  });

  it('a document over the size limit is written as compact JSON, the same document', () => {
    const [pretty] = renderDocuments(model, ['cyclonedx-json']);
    const [compact] = renderDocuments(model, ['cyclonedx-json'], 100);
    expect(pretty.text).toContain('\n  "');
    expect(compact.text.trimEnd()).not.toContain('\n');
    expect(JSON.parse(compact.text)).toEqual(JSON.parse(pretty.text));
  });

  it('a document that fails validation is refused with the first problem named', () => {
    const bad = { ...model, root: { ...model.root, narHash: { hex: 'zz', sri: 'x' } } };
    expect(() => renderDocuments(bad, ['spdx-json'])).toThrow(/^The SPDX 2\.3 document failed validation at \/packages\/0\/checksums\/0\/checksumValue: must be 64 lower-case hex digits/);
  });
});
