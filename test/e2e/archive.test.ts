import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBundle } from '../helpers/bundle.js';
import { NIX_TEST_CONF } from '../helpers/nix.js';
import { writeImageFlake, type ImageFlake } from '../helpers/images.js';

/** The archive bundle under Node 24 with the runner's env/file contract (upload: false). */
const SANDBOX_PATHS = ['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ');
const env = { NIX_CONFIG: `${NIX_TEST_CONF}\nextra-sandbox-paths = ${SANDBOX_PATHS}` };
let flake: ImageFlake;

beforeAll(() => {
  flake = writeImageFlake();
});

describe('archive bundle', () => {
  it('archives .#devcontainer from the workspace, verifies it, and reports', async () => {
    const r = await runBundle('archive', { env, cwd: flake.dir, inputs: { upload: 'false', verify: 'true' } });
    expect(r.annotations).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs.path).toBe(join(flake.dir, 'nix-archive'));
    expect(r.outputs.manifest).toBe(join(flake.dir, 'nix-archive', 'manifest.json'));
    const m = JSON.parse(readFileSync(r.outputs.manifest, 'utf8'));
    expect(m.installable).toBe('.#devcontainer');
    expect(m.scope).toBe('build');
    expect(Number(r.outputs.size)).toBeGreaterThan(m.paths.length * 100);
    expect(existsSync(join(r.outputs.path, 'README.md'))).toBe(true);
    expect(r.summary).toContain('## Nix offline archive');
    expect(r.summary).toContain('### Verification: rebuilt from the archive alone');
    expect(r.summary).toMatch(/\| out \| `\/nix\/store\/[a-z0-9]{32}-devcontainer\.tar\.gz` \| yes \|/);
  });

  it('runtime scope without verify', async () => {
    const r = await runBundle('archive', {
      env,
      inputs: { installable: flake.installable('oci-dir'), scope: 'runtime', upload: 'false', path: 'out/archive' },
    });
    expect(r.code).toBe(0);
    expect(r.outputs.path).toBe(join(r.files.dir, 'out', 'archive'));
    expect(r.summary).not.toContain('Verification');
  });

  it('a failing build and a bad path fail with one error line', async () => {
    const failing = await runBundle('archive', { env, inputs: { installable: flake.installable('failing'), upload: 'false' } });
    expect(failing.code).toBe(1);
    expect(failing.annotations).toHaveLength(1);
    expect(failing.annotations[0].message).toMatch(/FAILING-BUILD-MARKER/);
    const hostile = await runBundle('archive', { env, inputs: { installable: flake.installable('hello'), path: 'a\n::error::x', upload: 'false' } });
    expect(hostile.code).toBe(1);
    expect(hostile.annotations).toHaveLength(1);
    expect(hostile.outputs).toEqual({});
  });
});
