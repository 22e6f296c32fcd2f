import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { UserError } from '../errors.js';
import { tail } from '../process/run.js';
import { HashCounter } from './digest.js';
import { normalizeEntryPath } from './tar.js';

/**
 * Sources that can only be read front to back: a compressed tarball (gzip, zstd)
 * or a Nix stream script (`streamLayeredImage`), whose output is read as the
 * child process writes it, never spooled to a temporary tarball.
 */
export type StreamKind = 'gzip' | 'zstd' | 'script';

export interface ScannedEntry {
  size: number;
  digest: string;
  /** First bytes, to tell a plain layer from a compressed one. */
  head: Buffer;
  /** Whole content of small entries (manifests, configs, index.json). */
  bytes?: Buffer;
}

/** The most a manifest, index or config may be: more than any real one, far less than a layer. */
export const METADATA_MAX = 4 * 1024 * 1024;
/** The most a scan keeps in memory in all: the layers themselves are streamed again, never kept. */
export const RETAIN_BUDGET = 16 * 1024 * 1024;

/**
 * Whether an entry may be a manifest, index or config: the docker-archive names
 * (manifest.json, <hex>.json), the OCI layout's index.json, and an OCI blob whose
 * first byte is `{` (a layer starts with a tar header or a compression magic).
 */
function maybeMetadata(name: string, head: Buffer): boolean {
  if (name === 'manifest.json' || name === 'index.json' || name === 'oci-layout' || name.endsWith('.json')) return true;
  if (!name.startsWith('blobs/')) return false;
  const first = head.toString('latin1').trimStart()[0];
  return first === '{';
}

interface Opened {
  stream: Readable;
  /** Resolves when the producer finished cleanly; rejects with a UserError otherwise. */
  finished: () => Promise<void>;
  abort: () => void;
}

function zstdDecompressor(): ((file: string) => Opened) | undefined {
  const z = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream };
  if (typeof z.createZstdDecompress !== 'function') return undefined;
  return (file) => {
    const src = createReadStream(file);
    const dec = z.createZstdDecompress!() as unknown as PassThrough;
    src.on('error', (e) => dec.destroy(e));
    src.pipe(dec);
    return { stream: dec, finished: async () => {}, abort: () => (src.destroy(), dec.destroy()) };
  };
}

function spawnProducer(command: string, args: string[], what: string, hint: string): Opened {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-16384);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  child.stdout.pipe(out);
  let aborted = false;
  void exit.then((r) => {
    if (r.error) out.destroy(new UserError(`could not run ${what}: ${r.error.message}`, { hint }));
  });
  return {
    stream: out,
    finished: async () => {
      const r = await exit;
      if (aborted) return;
      if (r.error || r.code !== 0) {
        throw new UserError(`${what} failed (${r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit code ${r.code}`})`, {
          hint,
          detail: tail(stderr),
        });
      }
    },
    abort: () => {
      aborted = true;
      child.kill('SIGKILL');
      out.destroy();
    },
  };
}

export function openSequential(kind: StreamKind, path: string): Opened {
  if (kind === 'gzip') {
    const src = createReadStream(path);
    const gun = zlib.createGunzip({ chunkSize: 256 * 1024 });
    src.on('error', (e) => gun.destroy(e));
    src.pipe(gun);
    return { stream: gun, finished: async () => {}, abort: () => (src.destroy(), gun.destroy()) };
  }
  if (kind === 'zstd') {
    // Node 22.15+ decompresses zstd itself; older Node uses the zstd program.
    return (
      zstdDecompressor()?.(path) ??
      spawnProducer('zstd', ['-dcq', '--', path], `zstd -d ${path}`, 'Check the file is a complete zstd-compressed tarball, or install zstd')
    );
  }
  return spawnProducer(path, [], `the image stream script ${path}`, 'Run it locally to see why; it should write a tarball to stdout');
}

async function eachEntry(
  kind: StreamKind,
  path: string,
  onEntry: (name: string, size: number, entry: Readable) => Promise<void>,
): Promise<void> {
  const opened = openSequential(kind, path);
  const ex = tar.extract();
  opened.stream.on('error', (e) => ex.destroy(e));
  opened.stream.pipe(ex);
  let consumerFailed = false;
  try {
    for await (const entry of ex) {
      const h = entry.header;
      if (h.type === 'file' || h.type === 'contiguous-file') {
        try {
          await onEntry(normalizeEntryPath(h.name), h.size ?? 0, entry as unknown as Readable);
        } catch (error) {
          consumerFailed = true;
          throw error;
        }
      }
      entry.resume();
    }
    await opened.finished();
  } catch (error) {
    ex.destroy();
    if (consumerFailed || error instanceof UserError) {
      opened.abort();
      throw error;
    }
    // The tar broke off: a failing producer (script exit code, stderr) explains it better.
    const producer = await Promise.race([
      opened.finished().then(
        () => undefined,
        (e: unknown) => e,
      ),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref()),
    ]);
    opened.abort();
    if (producer) throw producer;
    const what = kind === 'script' ? `output of the stream script ${path}` : `${kind}-compressed tarball ${path}`;
    throw new UserError(`could not read the ${what}: ${(error as Error).message}`, {
      hint: 'The image is damaged or is not a docker-archive or OCI archive; rebuild it',
    });
  }
}

/** Bytes a scan kept in memory (the `bytes` of its entries). */
export function retainedBytes(entries: ReadonlyMap<string, ScannedEntry>): number {
  let n = 0;
  for (const e of entries.values()) n += e.bytes?.length ?? 0;
  return n;
}

/**
 * Pass one: hashes every file of the archive as it streams by, keeping only what
 * may be a manifest, index or config (each at most METADATA_MAX, all together at
 * most `budget`). Layers are only hashed: pass two streams them again.
 */
export async function scanSequential(kind: StreamKind, path: string, budget = RETAIN_BUDGET): Promise<Map<string, ScannedEntry>> {
  const entries = new Map<string, ScannedEntry>();
  let retained = 0;
  await eachEntry(kind, path, async (name, size, entry) => {
    const counter = new HashCounter();
    let keep: Buffer[] | undefined = size <= METADATA_MAX && retained + size <= budget ? [] : undefined;
    let decided = false;
    let head = Buffer.alloc(0);
    for await (const chunk of entry.pipe(counter)) {
      const c = chunk as Buffer;
      if (head.length < 16) head = Buffer.concat([head, c.subarray(0, 16 - head.length)]);
      if (keep && !decided && head.length >= Math.min(16, size)) {
        decided = true;
        if (!maybeMetadata(name, head)) keep = undefined;
      }
      keep?.push(c);
    }
    if (keep && !decided && !maybeMetadata(name, head)) keep = undefined;
    const bytes = keep ? Buffer.concat(keep) : undefined;
    retained += bytes?.length ?? 0;
    entries.set(name, { size: counter.size, digest: counter.digest, head, bytes });
  });
  return entries;
}

/** Pass two: streams the archive again and hands the wanted entries to `each`, in archive order. */
export async function replaySequential(
  kind: StreamKind,
  path: string,
  wanted: ReadonlySet<string>,
  each: (name: string, stream: Readable) => Promise<void>,
): Promise<void> {
  await eachEntry(kind, path, async (name, _size, entry) => {
    if (wanted.has(name)) await each(name, entry);
  });
}
