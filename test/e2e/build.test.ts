import { readFileSync, existsSync } from 'node:fs';
import { runBundle } from '../helpers/bundle.js';
import { NIX_TEST_CONF, salt, writeFlake } from '../helpers/nix.js';
import { contentPaths, IMAGE_PACKAGES, writeImageFlake, type ImageFlake } from '../helpers/images.js';

/** The build bundle under Node 24 with the runner's env/file contract. */
let flake: ImageFlake;
let paths: Record<string, string>;
const env = { NIX_CONFIG: NIX_TEST_CONF };

beforeAll(() => {
  flake = writeImageFlake();
  paths = contentPaths(flake);
});

describe('build bundle', () => {
  it('builds the default .#devcontainer from the workspace and exports the image for later steps', async () => {
    const r = await runBundle('build', { env, cwd: flake.dir, inputs: { installable: '.#devcontainer', args: '--max-jobs\n1' } });
    expect(r.annotations).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs['image-format']).toBe('docker-archive+gzip');
    expect(r.outputs.image).toBe(r.outputs['out-path']);
    expect(r.outputs.image).toMatch(/^\/nix\/store\/[a-z0-9]{32}-devcontainer\.tar\.gz$/);
    expect(r.outputs['drv-path']).toMatch(/-devcontainer\.tar\.gz\.drv$/);
    expect(Number(r.outputs['closure-size'])).toBeGreaterThan(0);
    const versions = JSON.parse(readFileSync(r.outputs.versions, 'utf8'));
    expect(versions).toEqual(
      IMAGE_PACKAGES.map((p) => ({ name: p.name, version: p.version, output: 'out', path: paths[p.attr] })).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      ),
    );
    expect(r.env).toEqual({
      NIX_ACTIONS_IMAGE: r.outputs.image,
      NIX_ACTIONS_IMAGE_FORMAT: 'docker-archive+gzip',
      NIX_ACTIONS_INSTALLABLE: '.#devcontainer',
      NIX_ACTIONS_DRV_PATH: r.outputs['drv-path'],
      NIX_ACTIONS_VERSIONS: r.outputs.versions,
    });
    expect(r.summary).toContain('## Nix build');
    expect(r.summary).toContain(`| libfoo | 1.2.3 | out | \`${paths.libfoo}\` |`);
    // the build log is in a group, with workflow commands stopped around it
    expect(r.stdout).toMatch(/::group::nix build \.#devcontainer/);
    expect(r.stdout).toMatch(/::stop-commands::[0-9a-f]{32}/);
  });

  it('reports a stream script', async () => {
    const r = await runBundle('build', { env, inputs: { installable: flake.installable('stream') } });
    expect(r.code).toBe(0);
    expect(r.outputs['image-format']).toBe('stream-script');
    expect(existsSync(r.outputs.image)).toBe(true);
  });

  it.each([
    ['a missing attribute', 'no-such-attr', /does not provide attribute/],
    ['a failing build', 'failing', /failed with exit code 3.*FAILING-BUILD-MARKER/],
    ['an output that is no image', 'not-an-image', /is not a container image: found/],
  ])('%s fails the step with one error line', async (_what, attr, message) => {
    const r = await runBundle('build', { env, inputs: { installable: flake.installable(attr) } });
    expect(r.code).toBe(1);
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0].message).toMatch(message);
    expect(r.outputs).toEqual({});
    expect(r.env).toEqual({});
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });

  it('a missing flake fails with one error line', async () => {
    const r = await runBundle('build', { env, inputs: { installable: `path:/nonexistent-${salt()}#devcontainer` } });
    expect(r.code).toBe(1);
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0].message).toMatch(/^nix build path:\/nonexistent-.* failed: /);
  });

  it('workflow commands in a build log do not reach the runner', async () => {
    const dir = writeFlake(
      `{ packages.\${system}.evil = mkWith { name = "evil"; salt = "${salt()}"; args = [ "-c" "echo '::warning::pwned'; echo '::set-output name=image::/etc'; exit 1" ]; }; }`,
    );
    const r = await runBundle('build', { env, inputs: { installable: `path:${dir}#evil` } });
    expect(r.code).toBe(1);
    expect(r.annotations.filter((a) => a.level === 'warning')).toEqual([]);
    expect(r.annotations).toHaveLength(1);
    expect(r.outputs).toEqual({});
  });
});
