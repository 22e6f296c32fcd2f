import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { isUserError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { openImage, type SourceImage } from '../../src/oci/image.js';
import { pushImage } from '../../src/oci/push.js';
import { Registry } from '../../src/oci/registry.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { tarOf } from '../helpers/tar.js';

/**
 * A plain docker-archive names its layers' digests in the config (rootfs.diff_ids):
 * publish asks the registry with those before reading any layer, reads nothing of
 * a layer the registry holds, and checks a layer it must upload while streaming
 * it, refusing one that is not what its diff_id says.
 */
const dir = mkdtempSync(join(tmpdir(), 'nix-actions-publish-docker-archive-'));
let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let n = 0;
/** A docker-archive of three 20-40 KiB layers; `tamper` flips one byte of that layer after its diff_id was taken. */
async function archive(tamper?: number): Promise<{ file: string; layers: Buffer[]; diffIds: string[] }> {
  const layers: Buffer[] = [];
  for (let i = 0; i < 3; i++) layers.push(await tarOf([[`f-${i}`, randomBytes(20000 + i * 10000)]]));
  const diffIds = layers.map(sha);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  const stored = layers.map((l, i) => {
    if (i !== tamper) return l;
    const t = Buffer.from(l);
    t[t.length - 2000] ^= 0xff;
    return t;
  });
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['x:y'], Layers: layers.map((_, i) => `${i}/layer.tar`) }]));
  const file = join(dir, `image-${++n}.tar`);
  writeFileSync(file, await tarOf([['manifest.json', manifest], ['config.json', config], ...stored.map((l, i): [string, Buffer] => [`${i}/layer.tar`, l])]));
  return { file, layers, diffIds };
}

/** Counts what is read of the layers through the image's reader. */
function counted(image: SourceImage): { opens: number; bytes: number } {
  const seen = { opens: 0, bytes: 0 };
  const open = image.reader.open!;
  image.reader.open = (entry, start) => {
    seen.opens++;
    const s = open(entry, start);
    s.on('data', (c: Buffer) => (seen.bytes += c.length));
    return s;
  };
  return seen;
}

async function readAllOf(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const client = (over = {}) => {
  const log = recordingLog();
  return { log, c: new Registry({ host: reg.host, plainHttp: true, log, backoffMs: 5, ...over }) };
};

it('re-pushes a docker-archive without reading any layer: the diff_ids answer the registry check', async () => {
  const { file, diffIds } = await archive();
  const { log, c } = client();
  const cold = await openImage(file);
  const first = counted(cold);
  const o1 = await pushImage(c, cold, { repository: 'da/repush', tags: ['v1'], log });
  expect(o1.blobs.filter((b) => b.role === 'layer').map((b) => [b.digest, b.status])).toEqual(diffIds.map((d) => [d, 'pushed']));
  expect(first.opens).toBe(3);

  const warm = await openImage(file);
  const second = counted(warm);
  const o2 = await pushImage(c, warm, { repository: 'da/repush', tags: ['v1'], log });
  expect(o2.digest).toBe(o1.digest);
  expect(o2.blobs.every((b) => b.status === 'skipped')).toBe(true);
  expect(second).toEqual({ opens: 0, bytes: 0 });
});

it('streams a layer from any offset while still hashing all of it', async () => {
  const { file, layers } = await archive();
  const image = await openImage(file);
  const l = image.layers[2];
  expect(await readAllOf(image.reader.open!(l.entry, 0))).toEqual(layers[2]);
  expect(await readAllOf(image.reader.open!(l.entry, 12345))).toEqual(layers[2].subarray(12345));
  expect(await readAllOf(image.reader.open!(l.entry, layers[2].length))).toEqual(Buffer.alloc(0));
});

it.each([
  ['in one request', {}],
  ['in chunks', { monolithicMax: 4096, chunkSize: 4096 }],
])('refuses to upload a layer that does not match its diff_id (%s), and tags nothing', async (_how, over) => {
  const { file, diffIds } = await archive(1);
  const { log, c } = client(over);
  const repo = `da/tampered-${n}`;
  const err = await pushImage(c, await openImage(file), { repository: repo, tags: ['v1'], log }).catch((e: unknown) => e);
  expect(isUserError(err)).toBe(true);
  expect((err as Error).message).toMatch(new RegExp(`layer 1/layer\\.tar in .*image-${n}\\.tar hashes to sha256:[a-f0-9]{64} but the config says ${diffIds[1]}`));
  // Refused on the first attempt: the altered bytes are not a network fault to retry.
  expect(c.retried).toBe(0);
  expect(await c.hasBlob(repo, diffIds[1])).toBe(false);
  expect(await c.getManifest(repo, 'v1')).toBeUndefined();
});

it('asks about no blob when the registry already holds the very manifest, and about each one when it does not', async () => {
  const { file } = await archive();
  const proxy = await startFaultProxy(reg.host);
  try {
    const log = recordingLog();
    const c = new Registry({ host: proxy.host, plainHttp: true, log, backoffMs: 5 });
    const o1 = await pushImage(c, await openImage(file), { repository: 'da/manifest', tags: ['v1'], log });
    proxy.clear();
    const o2 = await pushImage(c, await openImage(file), { repository: 'da/manifest', tags: ['v1'], log });
    expect(o2.digest).toBe(o1.digest);
    expect(o2.blobs.map((b) => b.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(proxy.records.filter((r) => r.path.includes('/blobs/'))).toEqual([]);
    // Other annotations make another manifest: every blob is asked about again, none sent.
    proxy.clear();
    const o3 = await pushImage(c, await openImage(file), { repository: 'da/manifest', tags: ['v2'], annotations: { 'org.example.x': 'y' }, log });
    expect(o3.digest).not.toBe(o1.digest);
    const blobRequests = proxy.records.filter((r) => r.path.includes('/blobs/'));
    expect(blobRequests.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'HEAD', 'HEAD']);
    expect(o3.bytesPushed).toBe(0);
  } finally {
    await proxy.stop();
  }
});
