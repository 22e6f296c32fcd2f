import { createReadStream } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import tar from 'tar-stream';
import { UserError } from '../errors.js';
import { indexTar, normalizeEntryPath } from '../oci/tar.js';
import { zstdDecompress } from './decompress.js';

/**
 * What a build produced, recognised from its bytes (never from its name: a
 * `.tar.gz` name proves nothing). The names are the `image-format` output values.
 */
export type ImageFormat =
  | 'docker-archive'
  | 'docker-archive+gzip'
  | 'docker-archive+zstd'
  | 'stream-script'
  | 'oci-layout'
  | 'oci-archive'
  | 'oci-archive+gzip'
  | 'oci-archive+zstd'
  | 'nix2container';

export const IMAGE_FORMATS: readonly ImageFormat[] = [
  'docker-archive',
  'docker-archive+gzip',
  'docker-archive+zstd',
  'stream-script',
  'oci-layout',
  'oci-archive',
  'oci-archive+gzip',
  'oci-archive+zstd',
  'nix2container',
];

export interface DetectedImage {
  path: string;
  format: ImageFormat;
}

export type Compression = 'none' | 'gzip' | 'zstd';

export function compressionOf(head: Buffer): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

/** A POSIX/GNU tar header has `ustar` at offset 257. */
export function isTarHeader(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** A short, printable description of bytes that are no image, for the error. */
function describe(head: Buffer, size: number): string {
  if (head.subarray(0, 4).toString('latin1') === '\x7fELF') return `an ELF executable (${size} bytes)`;
  const text = head.subarray(0, 40).toString('utf8');
  const printable = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(text);
  return printable
    ? `a ${size}-byte text file starting ${JSON.stringify(text.split('\n')[0].slice(0, 40))}`
    : `a ${size}-byte binary file starting 0x${head.subarray(0, 8).toString('hex')}`;
}

const notAnImage = (path: string, what: string) =>
  new UserError(`'${path}' is not a container image: found ${what}`, {
    hint:
      'The installable must produce a docker-archive (dockerTools.buildLayeredImage), a stream script ' +
      '(streamLayeredImage), an OCI layout or archive, or a nix2container JSON',
  });

type ArchiveKind = 'docker-archive' | 'oci-archive';

/**
 * Which layout a tar holds, from the first entry that tells: `manifest.json`
 * (docker save) or `oci-layout` (an OCI image layout). The first one wins, the
 * same rule for plain and compressed tars, so that an archive holding both (newer
 * `docker save` writes index.json, manifest.json, oci-layout in that order) is
 * read as src/oci reads it: as a docker-archive. Undefined when neither is there.
 */
function kindOfEntry(name: string): ArchiveKind | undefined {
  const n = normalizeEntryPath(name);
  if (n === 'manifest.json') return 'docker-archive';
  if (n === 'oci-layout') return 'oci-archive';
  return undefined;
}

/** A plain tar: its headers are read by seeking over the data, so this is cheap. */
async function plainTarKind(path: string): Promise<ArchiveKind | undefined> {
  for (const e of await indexTar(path)) {
    const kind = kindOfEntry(e.path);
    if (kind) return kind;
  }
  return undefined;
}

/**
 * A compressed tar cannot be seeked: decompress it front to back, reading entry
 * headers and skipping their data, and stop at the first entry that tells.
 * `null` when the decompressed bytes are not a tar at all.
 */
async function compressedTarKind(path: string, compression: 'gzip' | 'zstd'): Promise<ArchiveKind | undefined | null> {
  const file = createReadStream(path);
  const stream: Readable = compression === 'gzip' ? file.pipe(zlib.createGunzip()) : zstdDecompress(file);
  const extract = tar.extract();
  let settled = false;
  try {
    return await new Promise<ArchiveKind | undefined | null>((resolve, reject) => {
      let first = true;
      const fail = (e: Error) => {
        // A stream that is not a tar fails on its first header: say "not a tar" rather than the parser's words.
        if (first) resolve(null);
        else reject(e);
      };
      extract.on('entry', (header, entry, next) => {
        first = false;
        const kind = kindOfEntry(header.name);
        if (kind) {
          settled = true;
          resolve(kind);
          return;
        }
        entry.on('end', next);
        entry.resume();
      });
      extract.on('finish', () => resolve(first ? null : undefined));
      extract.on('error', (e) => settled || fail(e));
      stream.on('error', (e) => settled || fail(e));
      file.on('error', (e) => settled || reject(e));
      stream.pipe(extract);
    });
  } finally {
    settled = true;
    stream.unpipe(extract);
    extract.destroy();
    stream.destroy();
    file.destroy();
  }
}

/**
 * Recognises an image. A tar (plain or compressed) is told apart as OCI archive
 * or docker-archive by its entries; the full check of a tar's contents happens
 * when its layers are read (imageStorePaths), which fails on anything else.
 */
export async function detectImage(path: string): Promise<DetectedImage> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new UserError(`The image '${path}' does not exist`, { hint: 'Pass the path printed by the build step' });
  }
  if (st.isDirectory()) {
    const entries = (await readdir(path)).sort();
    if (entries.includes('oci-layout') && entries.includes('index.json')) return { path, format: 'oci-layout' };
    throw notAnImage(path, `a directory holding ${entries.length ? entries.slice(0, 8).join(', ') : 'nothing'}`);
  }
  const head = await readHead(path, 64 * 1024);
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    if ((st.mode & 0o111) === 0) throw notAnImage(path, 'a script that is not executable');
    return { path, format: 'stream-script' };
  }
  const compression = compressionOf(head);
  if (compression === 'gzip' || compression === 'zstd') {
    // A gzip/zstd file is a docker-archive or an OCI archive: the entries tell which.
    const kind = await compressedTarKind(path, compression);
    if (kind === null) throw notAnImage(path, `a ${compression}-compressed file (${st.size} bytes) that holds no tar archive`);
    // Neither manifest.json nor oci-layout: reading its layers fails later with what is missing.
    return { path, format: `${kind ?? 'docker-archive'}+${compression}` };
  }
  if (isTarHeader(head)) {
    const kind = await plainTarKind(path).catch((e: Error) => {
      throw notAnImage(path, `a damaged tar archive (${e.message})`);
    });
    return { path, format: kind ?? 'docker-archive' };
  }
  const firstChar = head.toString('utf8').trimStart()[0];
  if (firstChar === '{') {
    let json: any;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      throw notAnImage(path, describe(head, st.size));
    }
    if (Array.isArray(json?.layers) && json.layers.every((l: any) => Array.isArray(l?.paths)) && ('image-config' in json || 'version' in json)) {
      return { path, format: 'nix2container' };
    }
    throw notAnImage(path, `a JSON file with keys ${Object.keys(json ?? {}).slice(0, 6).join(', ') || '(none)'}`);
  }
  throw notAnImage(path, describe(head, st.size));
}

export const joinBlob = (layout: string, digest: string): string => {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex)) {
    throw new UserError(`OCI layout '${layout}' names a malformed digest '${digest}'`);
  }
  return join(layout, 'blobs', alg, hex);
};
