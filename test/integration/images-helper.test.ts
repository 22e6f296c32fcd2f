import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nixEnv } from '../helpers/nix.js';
import { requireTool } from '../helpers/tools.js';
import { buildOut, contentPaths, IMAGE_CONTENTS, writeImageFlake, type ImageFlake } from '../helpers/images.js';

/**
 * The image test flakes are only useful if they are real images: skopeo, an
 * independent client, must read them, and their layers must hold the content paths.
 */
let flake: ImageFlake;
let paths: Record<string, string>;
const skopeo = (...args: string[]) =>
  JSON.parse(execFileSync('skopeo', ['--insecure-policy', '--override-os', 'linux', ...args], { encoding: 'utf8' }));

beforeAll(() => {
  requireTool('skopeo', 'skopeo');
  flake = writeImageFlake();
  paths = contentPaths(flake);
});

const tarList = (file: string, ...flags: string[]) =>
  execFileSync('tar', [...flags, '-tf', file], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean);

describe('test image flakes', () => {
  it('builds the package graph hello -> libfoo -> zlib, and cacert', () => {
    const refs = (p: string) =>
      execFileSync('nix-store', ['-q', '--references', p], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(refs(paths.hello)).toContain(paths.libfoo);
    expect(refs(paths.libfoo)).toContain(paths.zlib);
    expect(refs(paths.cacert)).toEqual([]);
    expect(paths.hello).toMatch(/-hello-2\.12\.1$/);
  });

  it.each([
    ['docker-archive', []],
    ['docker-archive-gz', ['-z']],
    ['docker-archive-zst', ['--zstd']],
  ])('%s is a docker-archive skopeo reads, one layer per content path', (attr, flags) => {
    const out = buildOut(flake.installable(attr));
    const files = tarList(out, ...flags);
    expect(files).toContain('manifest.json');
    // skopeo 1.9 cannot read a compressed docker-archive ("loading tar component
    // manifest.json: unexpected EOF"), so it reads the decompressed tar.
    const plain = join(mkdtempSync(join(tmpdir(), 'img-')), 'image.tar');
    writeFileSync(plain, flags.length ? execFileSync(flags[0] === '-z' ? 'gzip' : 'zstd', ['-dc', out], { maxBuffer: 1 << 26 }) : readFileSync(out));
    const info = skopeo('inspect', `docker-archive:${plain}`);
    expect(info.Layers).toHaveLength(IMAGE_CONTENTS.length);
    expect(info.Architecture).toBe(process.arch === 'arm64' ? 'arm64' : 'amd64');
    // the first layer holds hello's store path
    const dir = mkdtempSync(join(tmpdir(), 'img-'));
    execFileSync('tar', [...flags, '-xf', out, '-C', dir]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest[0].RepoTags).toEqual([`${flake.imageName}:${flake.imageTag}`]);
    expect(tarList(join(dir, manifest[0].Layers[0]))).toContain(`${paths.hello.slice(1)}/bin/hello`);
  });

  it('the stream script writes a docker-archive and references the contents', () => {
    const script = buildOut(flake.installable('stream'));
    expect(statSync(script).mode & 0o111).not.toBe(0);
    const refs = execFileSync('nix-store', ['-q', '--references', script], { encoding: 'utf8' });
    for (const a of IMAGE_CONTENTS) expect(refs).toContain(paths[a]);
    const tar = join(mkdtempSync(join(tmpdir(), 'img-')), 'image.tar');
    writeFileSync(tar, execFileSync(script, [], { maxBuffer: 1 << 26 }));
    expect(skopeo('inspect', `docker-archive:${tar}`).Layers).toHaveLength(IMAGE_CONTENTS.length);
  });

  it('oci-dir and oci-archive are OCI layouts skopeo reads', () => {
    const dir = buildOut(flake.installable('oci-dir'));
    expect(readdirSync(dir).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect(skopeo('inspect', `oci:${dir}`).Layers).toHaveLength(IMAGE_CONTENTS.length);
    const archive = buildOut(flake.installable('oci-archive'));
    expect(skopeo('inspect', `oci-archive:${archive}`).Layers).toHaveLength(IMAGE_CONTENTS.length);
  });

  it('nix2container JSON names the content paths', () => {
    const json = JSON.parse(readFileSync(buildOut(flake.installable('nix2container')), 'utf8'));
    expect(json.layers.map((l: any) => l.paths[0].path)).toEqual(IMAGE_CONTENTS.map((a) => paths[a]));
  });

  it('failing fails with its marker', () => {
    expect(() => execFileSync('nix', ['build', '--no-link', flake.installable('failing')], { env: nixEnv(), stdio: 'pipe' })).toThrow(
      /FAILING-BUILD-MARKER/,
    );
  });
});
