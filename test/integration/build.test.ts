import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nix } from '../../src/nix/index.js';
import { buildImage, buildSummary, writeVersionsFile } from '../../src/build/index.js';
import { UserError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { contentPaths, IMAGE_ATTRS, IMAGE_PACKAGES, writeImageFlake, type ImageFlake } from '../helpers/images.js';

let nix: Nix;
let flake: ImageFlake;
let paths: Record<string, string>;

beforeAll(async () => {
  nix = await Nix.detect({ env: nixEnv() });
  flake = writeImageFlake();
  paths = contentPaths(flake);
});

const expectedVersions = () =>
  IMAGE_PACKAGES.map((p) => ({ name: p.name, version: p.version, output: 'out', path: paths[p.attr] })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );

describe('buildImage', () => {
  it.each(['docker-archive', 'docker-archive-zst', 'stream', 'oci-dir'] as const)(
    '%s: format, paths, versions, summary, out-link',
    async (attr) => {
      const log = recordingLog();
      const link = join(mkdtempSync(join(tmpdir(), 'build-')), 'result');
      const r = await buildImage(nix, log, { installable: flake.installable(attr), outLink: link });
      expect(r.image.format).toBe(IMAGE_ATTRS[attr]);
      expect(r.image.path).toBe(r.outPath);
      expect(readlinkSync(link)).toBe(r.outPath);
      expect(r.drvPath).toMatch(/^\/nix\/store\/[a-z0-9]{32}-.*\.drv$/);
      expect(r.versions).toEqual(expectedVersions());
      expect(r.closure.closureSize).toBeGreaterThan(0);
      // the Nix log went into a group, between stop-commands markers
      const group = log.lines.findIndex((l) => l.level === 'group');
      expect(log.lines[group].message).toBe(`nix build ${flake.installable(attr)}`);
      const stop = /^::stop-commands::([0-9a-f]{32})$/.exec(log.lines[group + 1].message);
      expect(stop).not.toBeNull();
      expect(log.lines.some((l) => l.message === `::${stop![1]}::`)).toBe(true);
      const md = buildSummary(r);
      expect(md).toContain(`| Image format | \`${IMAGE_ATTRS[attr]}\` |`);
      expect(md).toContain(`| hello | 2.12.1 | out | \`${paths.hello}\` |`);
      expect(md).toContain('| Closure | 4 store paths,');
    },
  );

  it('writes the versions file in its documented shape', async () => {
    const r = await buildImage(nix, recordingLog(), { installable: flake.installable('docker-archive-gz') });
    const file = join(mkdtempSync(join(tmpdir(), 'build-')), 'v', 'versions.json');
    await writeVersionsFile(file, r.versions);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(expectedVersions());
  });

  it('passes args to nix as argv, never through a shell', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'build-')), 'pwned');
    const ok = await buildImage(nix, recordingLog(), {
      installable: flake.installable('nix2container'),
      args: ['--option', 'warn-dirty', 'false', '--max-jobs', '1'],
    });
    expect(ok.image.format).toBe('nix2container');
    const err = await buildImage(nix, recordingLog(), {
      installable: flake.installable('nix2container'),
      args: [`; touch ${marker}`, `$(touch ${marker})`],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/is not a valid URL|unrecognised flag/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('buildImage errors: one line with the last lines of the Nix log', () => {
  const failure = async (installable: string, args?: string[]) => {
    const err = await buildImage(nix, recordingLog(), { installable, args }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).not.toMatch(/\n/);
    return err as UserError;
  };

  it('a missing flake', async () => {
    const err = await failure(`path:/nonexistent-${salt()}#devcontainer`);
    expect(err.oneLine).toMatch(/^nix build path:\/nonexistent-[0-9a-f]+#devcontainer failed: .*(does not exist|No such file)/);
  });

  it('an attribute that does not exist', async () => {
    const err = await failure(flake.installable('no-such-attr'));
    expect(err.oneLine).toMatch(/failed: .*does not provide attribute .*no-such-attr/);
  });

  it('a failing build names the builder and shows its last log lines', async () => {
    const err = await failure(flake.installable('failing'));
    expect(err.oneLine).toMatch(/failed: builder for '\/nix\/store\/[a-z0-9]{32}-failing-1\.0\.drv' failed with exit code 3/);
    expect(err.oneLine).toContain('FAILING-BUILD-MARKER: the build script failed');
    expect(err.detail).toMatch(/^\| /m);
    expect(err.detail!.split('\n').every((l) => l.startsWith('| '))).toBe(true);
  });

  it('an output that is no image names what was found', async () => {
    const err = await failure(flake.installable('not-an-image'));
    expect(err.oneLine).toMatch(/is not a container image: found a 10-byte text file starting "just text"/);
  });

  it('hostile installables are refused before Nix runs', async () => {
    await expect(buildImage(nix, recordingLog(), { installable: '.#a\n::error::pwned' })).rejects.toThrow(/control character/);
    await expect(buildImage(nix, recordingLog(), { installable: '  ' })).rejects.toThrow(/is empty/);
    // a leading '-' is an installable after '--', not an option
    const err = await failure('--impure');
    expect(err.oneLine).toMatch(/^nix build --impure failed: /);
  });

  it('a build log with workflow commands stays inside stop-commands', async () => {
    const dir = writeFlake(`{ packages.\${system}.evil = mkWith { name = "evil"; salt = "${salt()}"; args = [ "-c" "echo '::error::pwned'; echo '::add-mask::x'; exit 1" ]; }; }`);
    const log = recordingLog();
    const err = await buildImage(nix, log, { installable: `path:${dir}#evil` }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    const msgs = log.lines.map((l) => l.message);
    const start = msgs.findIndex((m) => m.startsWith('::stop-commands::'));
    const token = msgs[start].split('::')[2];
    const end = msgs.indexOf(`::${token}::`);
    const evil = msgs.findIndex((m) => m.includes('::error::pwned'));
    expect(evil).toBeGreaterThan(start);
    expect(evil).toBeLessThan(end);
  });
});
