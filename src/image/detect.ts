import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';

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
  | 'nix2container';

export const IMAGE_FORMATS: readonly ImageFormat[] = [
  'docker-archive',
  'docker-archive+gzip',
  'docker-archive+zstd',
  'stream-script',
  'oci-layout',
  'oci-archive',
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

/** Names of the first entries of a tar (uncompressed) header block chain, up to `max`. */
function tarNames(buf: Buffer, max = 64): string[] {
  const names: string[] = [];
  let off = 0;
  while (off + 512 <= buf.length && names.length < max) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    names.push((prefix ? `${prefix}/${name}` : name).replace(/^\.\//, ''));
    off += 512 + Math.ceil((Number.isFinite(size) ? size : 0) / 512) * 512;
  }
  return names;
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
  if (compression === 'gzip') return { path, format: 'docker-archive+gzip' };
  if (compression === 'zstd') return { path, format: 'docker-archive+zstd' };
  if (isTarHeader(head)) {
    const names = tarNames(head);
    if (names.includes('oci-layout')) return { path, format: 'oci-archive' };
    return { path, format: 'docker-archive' };
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
