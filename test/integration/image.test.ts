import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Nix } from '../../src/nix/index.js';
import { detectImage, imageClosure, storePathOfEntry } from '../../src/image/index.js';
import { UserError } from '../../src/errors.js';
import { nixEnv } from '../helpers/nix.js';
import { buildOut, contentPaths, IMAGE_ATTRS, IMAGE_CONTENTS, IMAGE_PACKAGES, writeImageFlake, type ImageAttr, type ImageFlake } from '../helpers/images.js';

let nix: Nix;
let flake: ImageFlake;
let paths: Record<string, string>;
const tmp = () => mkdtempSync(join(tmpdir(), 'image-test-'));

beforeAll(async () => {
  nix = await Nix.detect({ env: nixEnv() });
  flake = writeImageFlake();
  paths = contentPaths(flake);
});

describe('detectImage + imageClosure on real images', () => {
  it.each(Object.entries(IMAGE_ATTRS))('%s is %s, with the four content paths', async (attr, format) => {
    const out = buildOut(flake.installable(attr as ImageAttr));
    const image = await detectImage(out);
    expect(image.format).toBe(format);
    const closure = await imageClosure(nix, image);
    expect(closure.entries.map((e) => e.path)).toEqual(IMAGE_CONTENTS.map((a) => paths[a]).sort());
    expect(closure.layers).toBe(IMAGE_CONTENTS.length);
    expect(closure.missing).toEqual([]);
    expect(closure.dangling).toEqual([]);
    for (const p of IMAGE_PACKAGES) {
      const e = closure.entries.find((x) => x.path === paths[p.attr])!;
      expect([e.name, e.version, e.output]).toEqual([p.name, p.version, 'out']);
      expect(e.narSize).toBeGreaterThan(0);
      expect(e.narHash).toMatch(/^sha256[:-]/);
    }
    expect(closure.closureSize).toBe(closure.entries.reduce((n, e) => n + e.narSize!, 0));
  });

  // A gzipped or zstd'd OCI archive is no docker-archive: the entries inside say which.
  // Both entry orders: oci-layout first (as mkimage.sh writes it) and last, after the blobs.
  it.each([
    ['gzip', 'oci-layout index.json blobs'],
    ['gzip', 'blobs index.json oci-layout'],
    ['zstd', 'oci-layout index.json blobs'],
  ] as const)('a %s-compressed OCI archive (%s) is read as an OCI archive with the four content paths', async (compression, order) => {
    const layout = buildOut(flake.installable('oci-dir'));
    const d = tmp();
    const tarFile = join(d, 'oci.tar');
    execFileSync('tar', ['-C', layout, '-cf', tarFile, ...order.split(' ')]);
    execFileSync(compression, ['-q', tarFile]);
    const file = `${tarFile}.${compression === 'gzip' ? 'gz' : 'zst'}`;
    const image = await detectImage(file);
    expect(image.format).toBe(`oci-archive+${compression}`);
    const closure = await imageClosure(nix, image);
    expect(closure.entries.map((e) => e.path)).toEqual(IMAGE_CONTENTS.map((a) => paths[a]).sort());
  });

  it("a gzipped build output of the flake's OCI archive is oci-archive+gzip, its docker-archive stays docker-archive+gzip", async () => {
    const d = tmp();
    execFileSync('sh', ['-c', 'gzip -c < "$1" > "$2"', 'sh', buildOut(flake.installable('oci-archive')), join(d, 'oci.tar.gz')]);
    expect((await detectImage(join(d, 'oci.tar.gz'))).format).toBe('oci-archive+gzip');
    expect((await detectImage(buildOut(flake.installable('docker-archive-gz')))).format).toBe('docker-archive+gzip');
  });

  it('reports a path the store does not have as missing, not guessed', async () => {
    // An OCI layout whose layer holds a store path that does not exist here.
    const fake = '/nix/store/00000000000000000000000000000000-ghost-1.0';
    const dir = tmp();
    mkdirSync(join(dir, 'root', fake.slice(1)), { recursive: true });
    writeFileSync(join(dir, 'root', fake.slice(1), 'x'), 'x');
    const layout = join(dir, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layer = join(dir, 'layer.tar');
    execFileSync('tar', ['-C', join(dir, 'root'), '-cf', layer, 'nix']);
    const sha = (f: string) => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];
    const l = sha(layer);
    execFileSync('cp', [layer, join(layout, 'blobs', 'sha256', l)]);
    const manifest = JSON.stringify({ schemaVersion: 2, layers: [{ digest: `sha256:${l}`, size: 1 }] });
    const mf = join(dir, 'm.json');
    writeFileSync(mf, manifest);
    const m = sha(mf);
    execFileSync('cp', [mf, join(layout, 'blobs', 'sha256', m)]);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: `sha256:${m}` }] }));
    const closure = await imageClosure(nix, await detectImage(layout));
    expect(closure.missing).toEqual([fake]);
    expect(closure.entries[0]).toMatchObject({ path: fake, name: 'ghost', version: '1.0', narSize: undefined });
  });
});

describe('what is not an image', () => {
  const expectNotImage = async (path: string, found: RegExp) => {
    const err = await detectImage(path).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/is not a container image: found/);
    expect(err.oneLine).toMatch(found);
    expect(err.oneLine).not.toMatch(/\n/);
  };

  it('a plain text output names what was found', async () => {
    await expectNotImage(buildOut(flake.installable('not-an-image')), /text file starting "just text"/);
  });

  it('a directory that is no OCI layout lists its entries', async () => {
    await expectNotImage(buildOut(flake.installable('hello')), /directory holding bin/);
  });

  it('a JSON that is not nix2container, an ELF binary, a non-executable script', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a.json'), '{"name":"x"}');
    await expectNotImage(join(d, 'a.json'), /JSON file with keys name/);
    await expectNotImage('/bin/sh', /ELF executable|text file/);
    writeFileSync(join(d, 's'), '#!/bin/sh\necho hi\n');
    chmodSync(join(d, 's'), 0o644);
    await expectNotImage(join(d, 's'), /script that is not executable/);
  });

  it('hostile bytes stay on one line', async () => {
    const d = tmp();
    writeFileSync(join(d, 'h'), '::error::pwned\n::set-output name=x::y\n');
    await expectNotImage(join(d, 'h'), /text file starting "::error::pwned"/);
  });

  it('a missing path is a UserError', async () => {
    await expect(detectImage('/nonexistent/-rf')).rejects.toThrow(/does not exist/);
  });

  it('a tar that is not an image, and a stream script that fails, are clear errors', async () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), 'x');
    execFileSync('tar', ['-C', d, '-cf', join(d, 'plain.tar'), 'f']);
    const img = await detectImage(join(d, 'plain.tar'));
    await expect(imageClosure(nix, img)).rejects.toThrow(/not an image: it has no manifest.json/);
    writeFileSync(join(d, 'bad'), '#!/bin/sh\necho broken >&2\nexit 4\n');
    chmodSync(join(d, 'bad'), 0o755);
    await expect(imageClosure(nix, await detectImage(join(d, 'bad')))).rejects.toThrow(/failed \(exit 4\): broken/);
  });

  it('a gzip file that holds no tar is named as such', async () => {
    const d = tmp();
    writeFileSync(join(d, 'notes'), 'just some notes\n'.repeat(100));
    execFileSync('gzip', ['-q', join(d, 'notes')]);
    await expectNotImage(join(d, 'notes.gz'), /gzip-compressed file \(\d+ bytes\) that holds no tar archive/);
  });

  it('storePathOfEntry reads layer entry names', () => {
    const p = '/nix/store/6kxa16qczy0m1c2w567rgkmrhm8z4gkh-hello-2.12.1';
    expect(storePathOfEntry(`${p.slice(1)}/bin/hello`)).toBe(p);
    expect(storePathOfEntry(`./${p.slice(1)}/`)).toBe(p);
    expect(storePathOfEntry('nix/store/')).toBeUndefined();
    expect(storePathOfEntry('etc/passwd')).toBeUndefined();
    expect(storePathOfEntry('nix/store/not-a-hash')).toBeUndefined();
  });
});
