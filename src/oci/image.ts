import { createReadStream } from 'node:fs';
import { open as openFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { digestStream, readAll, sha256 } from './digest.js';
import { DIGEST_RE, layerMediaType, MEDIA, type Descriptor, type ImageIndex, type ImageManifest } from './media.js';
import { METADATA_MAX, RETAIN_BUDGET, replaySequential, scanSequential, type StreamKind } from './source.js';
import { indexTar } from './tar.js';
import { detectImage, type ImageFormat as DetectedFormat } from '../image/detect.js';

/**
 * Every image form the build action reports, read into one shape: the config
 * bytes, the layer descriptors (digests computed or checked while reading), and a
 * way to get each layer's bytes back: random access for directories and plain
 * tarballs, a second streaming pass for compressed tarballs and stream scripts.
 * Formats are the `image-format` names build reports (src/image), less
 * nix2container, which publish cannot push yet.
 */
export type ImageFormat = Exclude<DetectedFormat, 'nix2container'>;

export interface Layer extends Descriptor {
  /** Where the bytes live inside the source (a path in the archive or layout). */
  entry: string;
}

export interface BlobReader {
  /** Random access from `start`; absent for sources read front to back. */
  open?(entry: string, start: number): Readable;
  /** Streams the source again, handing each wanted entry to `each` in order. */
  replay?(wanted: ReadonlySet<string>, each: (entry: string, stream: Readable) => Promise<void>): Promise<void>;
}

export interface SourceImage {
  path: string;
  format: ImageFormat;
  config: Buffer;
  configMediaType: string;
  layers: Layer[];
  /** The manifest as built, when the source carries one (OCI layout/archive). */
  manifest?: { bytes: Buffer; mediaType: string; annotations?: Record<string, string> };
  reader: BlobReader;
}

/** Small reads from a container of named files (an archive or a directory). */
interface Files {
  has(name: string): boolean;
  read(name: string, limit?: number): Promise<Buffer>;
  /**
   * Digest and size of an entry. `claimed` is the digest the image's config names
   * for it: a random-access container may take it as is (the registry checks it
   * on upload, and a blob it already holds is by definition those bytes) rather
   * than reading every layer once more before pushing.
   */
  digest(name: string, claimed?: string): Promise<{ digest: string; size: number }>;
  head(name: string): Promise<Buffer>;
}

const bad = (path: string, what: string) =>
  new UserError(`${path} is not a usable image: ${what}`, {
    hint: 'Pass the image the build step reported (docker-archive, stream script, OCI layout or archive)',
  });

const tooLarge = (path: string, name: string, limit: number) => bad(path, `${name} is larger than the ${limit / 1024 / 1024} MiB a manifest or config may be`);

function parseJson<T>(path: string, name: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw bad(path, `${name} is not valid JSON (${(e as Error).message})`);
  }
}

async function interpret(path: string, files: Files, kind: 'docker' | 'oci' | 'auto'): Promise<Omit<SourceImage, 'format' | 'reader' | 'path'> & { kind: 'docker' | 'oci' }> {
  const isDocker = kind === 'docker' || (kind === 'auto' && files.has('manifest.json'));
  if (isDocker) {
    if (!files.has('manifest.json')) throw bad(path, 'it has no manifest.json');
    const list = parseJson<{ Config?: string; Layers?: string[] }[]>(path, 'manifest.json', await files.read('manifest.json'));
    if (!Array.isArray(list) || list.length !== 1) {
      throw bad(path, `manifest.json lists ${Array.isArray(list) ? list.length : 'no'} images; publish pushes exactly one per step`);
    }
    const [m] = list;
    if (!m.Config || !files.has(m.Config)) throw bad(path, `its config ${m.Config ?? '(none)'} is missing`);
    const config = await files.read(m.Config);
    const parsed = parseJson<{ rootfs?: { diff_ids?: string[] } }>(path, m.Config, config);
    const diffIds = parsed.rootfs?.diff_ids ?? [];
    const layerNames = m.Layers ?? [];
    if (diffIds.length !== layerNames.length) {
      throw bad(path, `its config names ${diffIds.length} layers but manifest.json lists ${layerNames.length}`);
    }
    const layers: Layer[] = [];
    for (const [i, name] of layerNames.entries()) {
      if (!files.has(name)) throw bad(path, `layer ${name} is missing`);
      const mediaType = layerMediaType(await files.head(name));
      const { digest, size } = await files.digest(name, mediaType === MEDIA.ociLayerTar ? diffIds[i] : undefined);
      // What was built must be what we push: a plain layer's digest is its diff_id.
      if (mediaType === MEDIA.ociLayerTar && digest !== diffIds[i]) {
        throw bad(path, `layer ${name} hashes to ${digest} but the config says ${diffIds[i]} (damaged archive)`);
      }
      layers.push({ mediaType, digest, size, entry: name });
    }
    return { kind: 'docker', config, configMediaType: MEDIA.ociConfig, layers };
  }
  if (!files.has('index.json')) throw bad(path, 'it has neither manifest.json (docker-archive) nor index.json (OCI layout)');
  const blobName = (d: Descriptor) => {
    if (!DIGEST_RE.test(d.digest)) throw bad(path, `unsupported digest ${JSON.stringify(d.digest)}`);
    return `blobs/sha256/${d.digest.slice(7)}`;
  };
  const readBlob = async (d: Descriptor, what: string) => {
    const name = blobName(d);
    if (!files.has(name)) throw bad(path, `its ${what} ${d.digest} is missing`);
    const bytes = await files.read(name);
    if (sha256(bytes) !== d.digest) throw bad(path, `its ${what} does not match its digest ${d.digest}`);
    return bytes;
  };
  let index = parseJson<ImageIndex>(path, 'index.json', await files.read('index.json'));
  let desc: Descriptor | undefined;
  for (let depth = 0; depth < 4; depth++) {
    const ms = Array.isArray(index.manifests) ? index.manifests : [];
    if (ms.length !== 1) {
      throw bad(path, `its index lists ${ms.length} manifests; publish pushes one image per step (combine arches with the 'index' input)`);
    }
    desc = ms[0];
    if (desc.mediaType !== MEDIA.ociIndex && desc.mediaType !== MEDIA.dockerList) break;
    index = parseJson<ImageIndex>(path, 'nested index', await readBlob(desc, 'nested index'));
  }
  const bytes = await readBlob(desc!, 'manifest');
  const manifest = parseJson<ImageManifest>(path, 'its manifest', bytes);
  if (!manifest.config || !Array.isArray(manifest.layers)) throw bad(path, 'its manifest has no config or layers');
  const config = await readBlob(manifest.config, 'config');
  const layers: Layer[] = [];
  for (const l of manifest.layers) {
    const name = blobName(l);
    if (!files.has(name)) throw bad(path, `layer ${l.digest} is missing`);
    layers.push({ ...l, entry: name });
  }
  return {
    kind: 'oci',
    config,
    configMediaType: manifest.config.mediaType,
    layers,
    manifest: { bytes, mediaType: manifest.mediaType ?? desc!.mediaType ?? MEDIA.ociManifest, annotations: manifest.annotations },
  };
}

function dirFiles(dir: string): Files & { open(name: string, start: number): Readable; sizes: Map<string, number> } {
  const full = (n: string) => join(dir, n);
  const sizes = new Map<string, number>();
  const files = {
    has: (n: string) => {
      if (n.split('/').includes('..')) return false;
      return sizes.has(n);
    },
    read: async (n: string, limit = METADATA_MAX) => {
      try {
        return await readAll(createReadStream(full(n)), limit);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code) throw e;
        throw tooLarge(dir, n, limit);
      }
    },
    digest: async (n: string) => digestStream(createReadStream(full(n))),
    head: async (n: string) => {
      const fh = await openFile(full(n), 'r');
      try {
        const b = Buffer.alloc(16);
        const { bytesRead } = await fh.read(b, 0, 16, 0);
        return b.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    open: (n: string, start: number) => createReadStream(full(n), { start, highWaterMark: 1024 * 1024 }),
    sizes,
  };
  return files;
}

/**
 * A layer whose digest was taken from the config without reading it, streamed from
 * its first byte (so the hash covers all of it) but handed on from `start`. The
 * last chunk is held back until the hash is checked: a layer that is not what its
 * diff_id says never reaches the registry whole, so it is never stored under a
 * digest it does not have.
 */
function verifiedRange(path: string, entry: string, want: string, whole: Readable, start: number): Readable {
  const hash = createHash('sha256');
  let seen = 0;
  let held: Buffer | undefined;
  const check = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      const from = Math.max(0, start - seen);
      seen += chunk.length;
      if (held) this.push(held);
      held = from < chunk.length ? chunk.subarray(from) : undefined;
      done();
    },
    flush(done: TransformCallback) {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== want) {
        done(
          new UserError(`layer ${entry} in ${path} hashes to ${got} but the config says ${want}: refusing to push it under that digest`, {
            hint: 'The archive was altered or damaged after it was built; rebuild it',
          }),
        );
        return;
      }
      done(null, held);
    },
  });
  whole.on('error', (e) => check.destroy(e));
  check.on('close', () => whole.destroy());
  return whole.pipe(check);
}

/** Which reader an image needs, from the format src/image recognised. */
export async function detectContainer(path: string): Promise<'dir' | 'tar' | StreamKind> {
  if (!(await stat(path).catch(() => undefined))) {
    throw new UserError(`image ${path} does not exist`, {
      hint: "Run the build step first (it exports NIX_ACTIONS_IMAGE), or set the 'image' input to the image's path",
    });
  }
  const { format } = await detectImage(path);
  switch (format) {
    case 'oci-layout':
      return 'dir';
    case 'docker-archive':
    case 'oci-archive':
      return 'tar';
    case 'docker-archive+gzip':
    case 'oci-archive+gzip':
      return 'gzip';
    case 'docker-archive+zstd':
    case 'oci-archive+zstd':
      return 'zstd';
    case 'stream-script':
      return 'script';
    case 'nix2container':
      throw new UserError(`${path} is a nix2container JSON image, which publish cannot push yet`, {
        hint: 'Build a docker-archive, stream script or OCI layout (e.g. dockerTools.streamLayeredImage) instead',
      });
  }
}

/** Opens any image form build reports. */
export async function openImage(path: string): Promise<SourceImage> {
  const container = await detectContainer(path);
  if (container === 'dir') {
    const files = dirFiles(path);
    for (const n of ['index.json', 'oci-layout', 'manifest.json']) {
      const s = await stat(join(path, n)).catch(() => undefined);
      if (s?.isFile()) files.sizes.set(n, s.size);
    }
    const blobDir = join(path, 'blobs', 'sha256');
    for (const n of await readdir(blobDir).catch(() => [] as string[])) files.sizes.set(`blobs/sha256/${n}`, 0);
    if (!files.has('oci-layout')) throw bad(path, 'the directory has no oci-layout file');
    const img = await interpret(path, files, 'oci');
    return { path, format: 'oci-layout', ...img, reader: { open: files.open } };
  }
  if (container === 'tar') {
    let entries;
    try {
      entries = await indexTar(path);
    } catch (e) {
      throw bad(path, (e as Error).message);
    }
    const byName = new Map(entries.map((e) => [e.path, e]));
    const claimed = new Map<string, string>();
    let shared: FileHandle | undefined;
    const get = (n: string) => {
      const e = byName.get(n);
      if (!e) throw bad(path, `${n} is missing`);
      return e;
    };
    const range = (n: string, start: number, end?: number) => {
      const e = get(n);
      const last = e.offset + e.size - 1;
      return createReadStream(path, { start: e.offset + start, end: end === undefined ? last : Math.min(last, e.offset + end), highWaterMark: 1024 * 1024 });
    };
    const files: Files = {
      has: (n) => byName.has(n),
      read: async (n, limit = METADATA_MAX) => {
        const e = get(n);
        if (e.size > limit) throw tooLarge(path, n, limit);
        const fh = await openFile(path, 'r');
        try {
          const b = Buffer.alloc(e.size);
          await fh.read(b, 0, e.size, e.offset);
          return b;
        } finally {
          await fh.close();
        }
      },
      digest: async (n, want) => {
        if (!want || !DIGEST_RE.test(want)) return digestStream(range(n, 0));
        claimed.set(n, want);
        return { digest: want, size: get(n).size };
      },
      head: async (n) => {
        const e = get(n);
        const b = Buffer.alloc(Math.min(16, e.size));
        if (shared) {
          await shared.read(b, 0, b.length, e.offset);
          return b;
        }
        const fh = await openFile(path, 'r');
        try {
          await fh.read(b, 0, b.length, e.offset);
          return b;
        } finally {
          await fh.close();
        }
      },
    };
    const fh = await openFile(path, 'r');
    let img;
    try {
      // One handle for the many small reads (every layer's first bytes), not one open per read.
      shared = fh;
      img = await interpret(path, files, 'auto');
    } finally {
      shared = undefined;
      await fh.close();
    }
    // Digests taken from the config unread are checked while the layer streams out.
    const open = (n: string, s: number) => {
      const want = claimed.get(n);
      return want ? verifiedRange(path, n, want, range(n, 0), s) : range(n, s);
    };
    return { path, format: img.kind === 'docker' ? 'docker-archive' : 'oci-archive', ...img, reader: { open } };
  }
  const scanned = await scanSequential(container, path);
  const files: Files = {
    has: (n) => scanned.has(n),
    read: async (n) => {
      const e = scanned.get(n)!;
      if (!e.bytes) {
        throw e.size > METADATA_MAX
          ? tooLarge(path, n, METADATA_MAX)
          : bad(path, `${n} was not kept while streaming: it does not start like JSON, or the manifests and configs pass ${RETAIN_BUDGET / 1024 / 1024} MiB in all`);
      }
      return e.bytes;
    },
    digest: async (n) => scanned.get(n)!,
    head: async (n) => scanned.get(n)!.head,
  };
  const img = await interpret(path, files, 'auto');
  if (img.kind === 'oci') {
    for (const l of img.layers) {
      const got = scanned.get(l.entry)!;
      if (got.digest !== l.digest || got.size !== l.size) throw bad(path, `layer ${l.digest} does not match its content`);
    }
  }
  const format: ImageFormat =
    container === 'script' ? 'stream-script' : `${img.kind === 'docker' ? 'docker-archive' : 'oci-archive'}+${container}`;
  return { path, format, ...img, reader: { replay: (wanted, each) => replaySequential(container, path, wanted, each) } };
}
