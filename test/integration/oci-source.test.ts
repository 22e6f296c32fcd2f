import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { isUserError } from '../../src/errors.js';
import { openImage } from '../../src/oci/image.js';
import { METADATA_MAX, retainedBytes, scanSequential } from '../../src/oci/source.js';
import { tarOf } from '../helpers/tar.js';

/**
 * What publish keeps in memory while reading an image front to back (a stream
 * script, a compressed archive): the manifests and configs, never the layers,
 * which are streamed again when pushed. And how large a manifest or config may be.
 */
const dir = mkdtempSync(join(tmpdir(), 'nix-actions-oci-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A docker-archive of `n` layers of 1-3 MiB of random bytes; `pad` bytes of blanks appended to manifest.json. */
async function dockerArchive(n: number, pad = 0): Promise<{ bytes: Buffer; layerBytes: number }> {
  const layers: [string, Buffer][] = [];
  for (let i = 0; i < n; i++) {
    const size = (1 + (i % 3)) * 1024 * 1024 - 4096;
    layers.push([`${i}/layer.tar`, await tarOf([[`file-${i}`, randomBytes(size)]])]);
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(([, l]) => `sha256:${sha(l)}`) } }));
  const configName = `${sha(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['x:y'], Layers: layers.map(([name]) => name) }]) + ' '.repeat(pad));
  const bytes = await tarOf([['manifest.json', manifest], [configName, config], ...layers]);
  return { bytes, layerBytes: layers.reduce((s, [, l]) => s + l.length, 0) };
}

function streamScript(name: string, archive: Buffer): string {
  const data = join(dir, `${name}.tar`);
  writeFileSync(data, archive);
  const script = join(dir, name);
  writeFileSync(script, `#!/bin/sh\nexec cat '${data}'\n`);
  chmodSync(script, 0o755);
  return script;
}

it('keeps only the manifest and config of a stream image with many 1-3 MiB layers in memory', async () => {
  const { bytes, layerBytes } = await dockerArchive(12);
  const script = streamScript('many-layers', bytes);
  const scanned = await scanSequential('script', script);
  expect(scanned.size).toBe(14);
  const kept = [...scanned].filter(([, e]) => e.bytes).map(([name]) => name);
  expect(kept.sort()).toEqual(['manifest.json', [...scanned.keys()].find((k) => k.endsWith('.json') && k !== 'manifest.json')].sort());
  expect(layerBytes).toBeGreaterThan(20 * 1024 * 1024);
  expect(retainedBytes(scanned)).toBeLessThan(8 * 1024);
  // Every layer was still hashed on the way past.
  const image = await openImage(script);
  expect(image.format).toBe('stream-script');
  expect(image.layers).toHaveLength(12);

  // The same for a gzip-compressed archive.
  const gz = join(dir, 'many-layers.tar.gz');
  writeFileSync(gz, gzipSync(bytes, { level: 1 }));
  const fromGz = await scanSequential('gzip', gz);
  expect(retainedBytes(fromGz)).toBe(retainedBytes(scanned));
});

it('keeps the manifests and configs of an OCI archive, not its layer blobs', async () => {
  const layer = await tarOf([['f', randomBytes(2 * 1024 * 1024)]]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(layer)}`, size: layer.length }] }));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
  const archive = await tarOf([['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')], ['index.json', index],
    ...[manifest, config, layer].map((b) => [`blobs/sha256/${sha(b)}`, b] as [string, Buffer])]);
  const gz = join(dir, 'oci.tar.gz');
  writeFileSync(gz, gzipSync(archive, { level: 1 }));
  const scanned = await scanSequential('gzip', gz);
  expect(scanned.get(`blobs/sha256/${sha(layer)}`)!.bytes).toBeUndefined();
  expect(scanned.get(`blobs/sha256/${sha(manifest)}`)!.bytes).toEqual(manifest);
  expect(scanned.get(`blobs/sha256/${sha(config)}`)!.bytes).toEqual(config);
  const image = await openImage(gz);
  expect(image.format).toBe('oci-archive+gzip');
  expect(image.config).toEqual(config);
});

describe('a manifest or config larger than any real one is refused, whatever the form', () => {
  let archive: Buffer;
  beforeAll(async () => {
    // Valid JSON, padded past the limit with blanks.
    archive = (await dockerArchive(1, METADATA_MAX + 1)).bytes;
  });

  it('plain docker-archive', async () => {
    const file = join(dir, 'huge-manifest.tar');
    writeFileSync(file, archive);
    const err = await openImage(file).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toMatch(/huge-manifest\.tar is not a usable image: manifest\.json is larger than the 4 MiB a manifest or config may be/);
  });

  it('stream script', async () => {
    const err = await openImage(streamScript('huge-manifest-script', archive)).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toMatch(/manifest\.json is larger than the 4 MiB a manifest or config may be/);
  });

  it('OCI layout directory', async () => {
    const layout = join(dir, 'huge-index');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), `{"schemaVersion":2,"manifests":[]}${' '.repeat(METADATA_MAX + 1)}`);
    const err = await openImage(layout).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toMatch(/index\.json is larger than the 4 MiB a manifest or config may be/);
  });
});
