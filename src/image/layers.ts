import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import tar from 'tar-stream';
import { UserError } from '../errors.js';
import { isStorePath, STORE_DIR } from '../nix/storepath.js';
import { compressionOf, isTarHeader, joinBlob, type DetectedImage } from './detect.js';
import { zstdDecompress } from './decompress.js';

/**
 * Reads the store paths an image really contains, from its layers: every layer
 * entry `nix/store/<hash>-<name>/...` names one top-level store path. This is the
 * image as a registry will serve it, whatever produced it, and it needs nothing
 * but the image file. Streams only: an image can be gigabytes.
 */
export interface ImageLayers {
  /** Store paths found in the layers, sorted. */
  storePaths: string[];
  /** How many layers were read. */
  layers: number;
}

/** Returns the first `n` bytes of a stream and a stream that replays them and the rest. */
async function peek(src: Readable, n: number): Promise<[Buffer, Readable]> {
  const it = src[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value as Buffer);
    len += (r.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  const rest = Readable.from(
    (async function* () {
      if (head.length) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value as Buffer;
      }
    })(),
    { objectMode: false },
  );
  return [head, rest];
}

/** Undoes gzip/zstd when the stream starts with their magic bytes. */
async function decompressed(src: Readable): Promise<[Buffer, Readable]> {
  const [head, stream] = await peek(src, 512);
  const c = compressionOf(head);
  if (c === 'gzip') return peek(stream.pipe(zlib.createGunzip()), 512);
  if (c === 'zstd') return peek(zstdDecompress(stream), 512);
  return [head, stream];
}

/** Top-level store path of a layer entry name, if it is inside the store. */
export function storePathOfEntry(name: string): string | undefined {
  const clean = name.replace(/^\.?\/+/, '').replace(/^\.\//, '');
  const prefix = STORE_DIR.slice(1) + '/';
  if (!clean.startsWith(prefix)) return undefined;
  const base = clean.slice(prefix.length).split('/')[0];
  const path = `${STORE_DIR}/${base}`;
  return base && isStorePath(path) ? path : undefined;
}

/** Reads one layer tar (any compression), adding its store paths to `into`. */
async function scanLayer(src: Readable, into: Set<string>): Promise<void> {
  const [head, stream] = await decompressed(src);
  if (head.length > 0 && !isTarHeader(head)) throw new UserError('an image layer is not a tar archive');
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, entry, next) => {
      const p = storePathOfEntry(header.name);
      if (p) into.add(p);
      entry.on('end', next);
      entry.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(extract);
  await done;
}

/**
 * Reads an image archive (docker-archive or OCI archive, any compression): every
 * entry that is itself a tar is a layer. Metadata (manifest.json, config and index
 * blobs) is JSON and is skipped.
 */
async function scanArchive(src: Readable, what: string): Promise<ImageLayers> {
  const [head, stream] = await decompressed(src);
  if (!isTarHeader(head)) throw new UserError(`${what} is not a tar archive (it starts 0x${head.subarray(0, 8).toString('hex')})`);
  const paths = new Set<string>();
  let layers = 0;
  let sawManifest = false;
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, entry, next) => {
      const name = header.name.replace(/^\.\//, '');
      if (name === 'manifest.json' || name === 'index.json') sawManifest = true;
      if (header.type !== 'file' || header.size === 0 || name.endsWith('.json') || name === 'repositories' || name === 'oci-layout') {
        entry.on('end', next);
        entry.resume();
        return;
      }
      peek(entry as unknown as Readable, 512).then(
        async ([h, rest]) => {
          if (isTarHeader(h) || compressionOf(h)) {
            try {
              await scanLayer(rest, paths);
              layers++;
            } catch (e) {
              // a compressed blob that is no tar (rare: e.g. a compressed config) is not a layer
              if (!(e instanceof UserError)) throw e;
              rest.resume();
            }
          } else {
            rest.resume();
            await new Promise((r) => rest.on('end', r));
          }
          next();
        },
        (e) => reject(e),
      );
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.on('error', reject);
    stream.pipe(extract);
  });
  if (!sawManifest) throw new UserError(`${what} is a tar archive but not an image: it has no manifest.json or index.json`);
  return { storePaths: [...paths].sort(), layers };
}

async function scanStreamScript(script: string): Promise<ImageLayers> {
  // The script writes the image to stdout; we read it once, as publish would.
  const child = spawn(script, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const failed = (code: number) =>
    new UserError(`The stream script '${script}' failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`, { detail: err });
  let result: ImageLayers;
  try {
    result = await scanArchive(child.stdout, `The output of the stream script '${script}'`);
  } catch (e) {
    // A script that failed explains itself better than the bytes it did not write.
    const code = await Promise.race([exited.catch(() => -1), new Promise<number>((r) => setTimeout(() => r(0), 2000))]);
    if (code !== 0) throw failed(code);
    child.kill();
    throw e;
  }
  const code = await exited;
  if (code !== 0) throw failed(code);
  return result;
}

async function scanOciLayout(dir: string): Promise<ImageLayers> {
  const paths = new Set<string>();
  let layers = 0;
  const seen = new Set<string>();
  const readJson = async (file: string): Promise<any> => {
    try {
      return JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new UserError(`OCI layout '${dir}': cannot read ${file}: ${(e as Error).message}`);
    }
  };
  // index.json -> (nested indexes) -> manifests -> layers
  const visit = async (desc: any): Promise<void> => {
    const digest = String(desc?.digest ?? '');
    if (seen.has(digest)) return;
    seen.add(digest);
    const doc = await readJson(joinBlob(dir, digest));
    if (Array.isArray(doc.manifests)) for (const m of doc.manifests) await visit(m);
    for (const layer of doc.layers ?? []) {
      await scanLayer(createReadStream(joinBlob(dir, String(layer.digest))), paths);
      layers++;
    }
  };
  const index = await readJson(`${dir}/index.json`);
  for (const m of index.manifests ?? []) await visit(m);
  if (layers === 0 && seen.size === 0) throw new UserError(`OCI layout '${dir}' has no manifests in index.json`);
  return { storePaths: [...paths].sort(), layers };
}

async function scanNix2Container(file: string): Promise<ImageLayers> {
  // nix2container's JSON lists the store paths of each layer: no blobs exist yet.
  const json = JSON.parse(await readFile(file, 'utf8'));
  const paths = new Set<string>();
  for (const layer of json.layers ?? []) {
    for (const p of layer.paths ?? []) {
      const path = String(p?.path ?? '');
      if (!isStorePath(path)) throw new UserError(`nix2container JSON '${file}' names '${path}', which is not a store path`);
      paths.add(path);
    }
  }
  return { storePaths: [...paths].sort(), layers: (json.layers ?? []).length };
}

export async function imageStorePaths(image: DetectedImage): Promise<ImageLayers> {
  switch (image.format) {
    case 'oci-layout':
      return scanOciLayout(image.path);
    case 'stream-script':
      return scanStreamScript(image.path);
    case 'nix2container':
      return scanNix2Container(image.path);
    default:
      return scanArchive(createReadStream(image.path), `The image '${image.path}'`);
  }
}
