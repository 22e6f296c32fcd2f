import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBundle, type BundleRun } from '../helpers/bundle.js';
import { NIX_TEST_CONF, nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { buildOut, contentPaths, writeImageFlake } from '../helpers/images.js';
import { validateCycloneDx, validateSpdx } from '../../src/sbom/index.js';

/**
 * The sbom bundle under Node 24 with the runner's environment contract (INPUT_*,
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY...), upload: false, on real Nix.
 */
nixEnv(); // fails clearly when nix is missing
const s = salt();
const flake = writeFlake(`let
    lib = mkWith { name = "libbar-0.4"; pname = "libbar"; version = "0.4"; args = [ "-c" "echo ${s} > $out" ]; };
    app = (mkWith { name = "app-1.0"; pname = "app"; version = "1.0"; args = [ "-c" "echo \${lib} > $out" ]; }) // {
      meta = { license = { spdxId = "MIT"; }; description = "e2e app"; };
    };
  in { packages.\${system} = { default = app; inherit app; }; }`);
const installable = `path:${flake}#app`;
const env = { NIX_CONFIG: NIX_TEST_CONF, SOURCE_DATE_EPOCH: '1700000000' };
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

function oneError(r: BundleRun, re: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.annotations.filter((a) => a.level === 'error')).toHaveLength(1);
  expect(r.annotations.find((a) => a.level === 'error')!.message).toMatch(re);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
}

describe('sbom bundle', () => {
  it('describes the installable build exported, writes both files and the outputs, and a summary', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'sbom-e2e-'));
    const r = await runBundle('sbom', { cwd: ws, inputs: { upload: 'false' }, env: { ...env, NIX_ACTIONS_INSTALLABLE: installable } });
    expect(r.annotations).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs.cyclonedx).toBe(join(ws, 'sbom', 'sbom.cdx.json'));
    expect(r.outputs.spdx).toBe(join(ws, 'sbom', 'sbom.spdx.json'));
    expect(r.outputs.components).toBe('2');
    const cdx = read(r.outputs.cyclonedx);
    const spdx = read(r.outputs.spdx);
    expect(validateCycloneDx(cdx)).toEqual([]);
    expect(validateSpdx(spdx)).toEqual([]);
    expect(cdx.metadata.component).toMatchObject({ name: 'app', version: '1.0', licenses: [{ license: { id: 'MIT' } }] });
    // Defaults from the runner's repository: supplier and author are the owner.
    expect(cdx.metadata.supplier).toEqual({ name: 'vig-os', url: ['https://github.com/vig-os'] });
    expect(cdx.metadata.authors).toEqual([{ name: 'vig-os' }]);
    expect(spdx.documentNamespace).toMatch(/^https:\/\/github\.com\/vig-os\/example\/sbom\/app-/);
    expect(r.summary).toContain('## SBOM of path:');
    expect(r.summary).toContain('### Ten largest components');
    expect(r.summary).toMatch(/\| MIT \| 1 \|/);
    expect(r.summary).toMatch(/\| license \| 1 \| libbar \|/);
  });

  it('two runs of the bundle write identical bytes', async () => {
    const run = async () => {
      const ws = mkdtempSync(join(tmpdir(), 'sbom-e2e-'));
      const r = await runBundle('sbom', { cwd: ws, inputs: { upload: 'false', installable, 'output-dir': 'out dir' }, env });
      expect(r.code).toBe(0);
      return [readFileSync(r.outputs.cyclonedx), readFileSync(r.outputs.spdx)];
    };
    const [a, b] = [await run(), await run()];
    expect(b[0]).toEqual(a[0]);
    expect(b[1]).toEqual(a[1]);
  });

  it('describes the image build exported, from its layers, with meta and locks from its installable', async () => {
    const img = writeImageFlake();
    const paths = contentPaths(img);
    const image = buildOut(img.installable('docker-archive-gz'));
    const ws = mkdtempSync(join(tmpdir(), 'sbom-e2e-'));
    const r = await runBundle('sbom', {
      cwd: ws,
      inputs: { upload: 'false', format: 'cyclonedx-json', supplier: 'ACME Medical GmbH', author: 'Release Engineering' },
      env: { ...env, NIX_ACTIONS_IMAGE: image, NIX_ACTIONS_INSTALLABLE: img.installable('docker-archive-gz') },
    });
    expect(r.code).toBe(0);
    expect(r.outputs.spdx).toBe('');
    expect(existsSync(join(ws, 'sbom', 'sbom.spdx.json'))).toBe(false);
    const cdx = read(r.outputs.cyclonedx);
    expect(cdx.metadata.component).toMatchObject({ 'bom-ref': image, type: 'container' });
    expect(cdx.components.map((c: any) => c['bom-ref']).sort()).toEqual(Object.values(paths).sort());
    expect(cdx.metadata.supplier.name).toBe('ACME Medical GmbH');
    expect(cdx.metadata.authors).toEqual([{ name: 'Release Engineering' }]);
    expect(r.outputs.components).toBe('5');
  });

  it('end-of-support reaches both formats', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'sbom-e2e-'));
    const r = await runBundle('sbom', { cwd: ws, inputs: { upload: 'false', installable, 'end-of-support': 'libbar=2029-02-28\napp = 2030-01-01' }, env });
    expect(r.code).toBe(0);
    const spdx = read(r.outputs.spdx);
    expect(spdx.packages.map((p: any) => [p.name, p.validUntilDate]).sort()).toEqual([['app', '2030-01-01T00:00:00Z'], ['libbar', '2029-02-28T00:00:00Z']]);
  });
});

describe('sbom bundle errors: one line, no stack, nothing written', () => {
  const cases: [string, Record<string, string>, NodeJS.ProcessEnv, RegExp][] = [
    ['nothing to describe', {}, {}, /^Nothing to describe: neither installable nor image was given/],
    ['both installable and image', { installable, image: '/nix/store/00000000000000000000000000000000-x' }, {}, /^Input 'image': give either 'installable' or 'image', not both/],
    ['an image that is no store path', { image: '/etc/passwd' }, {}, /^Input 'image': '\/etc\/passwd' is not a Nix store path/],
    ['an image missing from the store', { image: '/nix/store/00000000000000000000000000000000-gone' }, {}, /is not in the Nix store/],
    ['an installable that looks like a flag', { installable: '--option' }, {}, /^nix build --option failed/],
    ['shell metacharacters and a workflow command', { installable: `path:${flake}#app;touch /tmp/pwned-${s}::error::x` }, {}, /failed/],
    ['an unknown format', { installable, format: 'cyclonedx-xml' }, {}, /^Input 'format': expected cyclonedx-json and\/or spdx-json, got 'cyclonedx-xml'/],
    ['a bad end-of-support line', { installable, 'end-of-support': 'libbar 2030' }, {}, /^Input 'end-of-support': expected lines of name=YYYY-MM-DD/],
    ['an impossible date', { installable, 'end-of-support': 'libbar=2030-02-30' }, {}, /^Input 'end-of-support': '2030-02-30' for libbar is not a calendar date/],
    ['an unknown component name', { installable, 'end-of-support': 'glibc=2030-01-01' }, {}, /^Input 'end-of-support': no component is named glibc/],
    ['a supplier with a newline', { installable, supplier: 'ACME\n::error::forged' }, {}, /^Input 'supplier': must be a single line/],
    ['a bad SOURCE_DATE_EPOCH', { installable }, { SOURCE_DATE_EPOCH: 'yesterday' }, /^SOURCE_DATE_EPOCH must be a whole number of seconds/],
    ['attest without a digest', { installable, attest: 'true', 'subject-name': 'ghcr.io/x/y' }, {}, /^Input 'subject-digest': attest: true needs the image digest/],
    ['upload outside GitHub Actions', { installable, upload: 'true' }, {}, /^Uploading the SBOM as artifact 'sbom' failed: .*set upload: false/],
  ];
  it.each(cases)('%s', async (_name, inputs, extraEnv, message) => {
    const ws = mkdtempSync(join(tmpdir(), 'sbom-e2e-'));
    const r = await runBundle('sbom', { cwd: ws, inputs: { upload: 'false', ...inputs }, env: { ...env, ...extraEnv } });
    oneError(r, message);
    expect(existsSync(`/tmp/pwned-${s}`)).toBe(false);
    if (!/upload/.test(_name)) {
      expect(existsSync(join(ws, 'sbom'))).toBe(false);
      expect(r.outputs).toEqual({});
    }
  });
});

afterAll(() => {
  try {
    const out = buildOut(installable);
    execFileSync('nix-store', ['--delete', out], { env: nixEnv(), stdio: 'ignore' });
  } catch {
    /* still referenced: fine */
  }
});
