import { open } from 'node:fs/promises';

/**
 * Where each regular file of a plain (uncompressed) tar lives, found by reading
 * only the 512-byte headers and seeking over the data. This is what lets a
 * docker-archive or OCI archive on disk be read with random access: several
 * layers uploaded at once, each re-read from any offset when an upload resumes.
 */
export interface TarEntry {
  path: string;
  /** Byte offset of the file's data in the archive. */
  offset: number;
  size: number;
}

const BLOCK = 512;

export function normalizeEntryPath(p: string): string {
  let out = p.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  if (out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

function octal(buf: Buffer, start: number, len: number): number {
  // GNU base-256 for sizes over 8 GiB.
  if (buf[start] & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + buf[i];
    return n;
  }
  const s = buf.toString('latin1', start, start + len).replace(/\0.*$/, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function cstr(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function paxPath(data: Buffer): string | undefined {
  let i = 0;
  let path: string | undefined;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('latin1', i, sp), 10);
    if (!len) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    i += len;
  }
  return path;
}

/** Lists the regular files of a plain tar. Throws on a truncated or non-tar file. */
export async function indexTar(file: string): Promise<TarEntry[]> {
  const fh = await open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const entries: TarEntry[] = [];
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    while (pos + BLOCK <= total) {
      const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
      if (bytesRead < BLOCK) break;
      if (header.every((b) => b === 0)) break; // end-of-archive marker
      const magic = header.toString('latin1', 257, 262);
      if (magic !== 'ustar') throw new Error(`not a tar archive (no ustar header at offset ${pos})`);
      const size = octal(header, 124, 12);
      const type = String.fromCharCode(header[156] || 0x30);
      const dataStart = pos + BLOCK;
      const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (next > total) throw new Error(`truncated tar archive (entry at offset ${pos} runs past the end)`);
      if (type === 'L' || type === 'x') {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataStart);
        longName = type === 'L' ? cstr(data, 0, size) : (paxPath(data) ?? longName);
      } else if (type === 'g') {
        // global pax header: nothing we need
      } else {
        const prefix = cstr(header, 345, 155);
        const name = longName ?? (prefix ? `${prefix}/${cstr(header, 0, 100)}` : cstr(header, 0, 100));
        longName = undefined;
        if (type === '0' || type === '\0' || type === '7') entries.push({ path: normalizeEntryPath(name), offset: dataStart, size });
      }
      pos = next;
    }
    return entries;
  } finally {
    await fh.close();
  }
}
