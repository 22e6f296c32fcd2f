import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { UserError } from '../errors.js';

/** zstd through Node's zlib where it has it (Node >= 22.15), else the `zstd` program. */
export function zstdDecompress(src: Readable): Readable {
  const z = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream };
  if (typeof z.createZstdDecompress === 'function') return src.pipe(z.createZstdDecompress() as unknown as PassThrough);
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (c) => (err += c.toString()));
  child.on('error', (e) =>
    out.destroy(new UserError(`Cannot decompress a zstd image: 'zstd' is not available (${(e as Error).message})`)),
  );
  child.on('close', (code) => {
    // A reader that stopped early (detection reads only the first entries) kills the pipe: not an error.
    if (code !== 0 && !out.destroyed) out.destroy(new UserError(`zstd failed to decompress the image (exit ${code}): ${err.trim()}`));
  });
  child.stdin.on('error', () => {});
  src.pipe(child.stdin);
  child.stdout.pipe(out);
  out.on('close', () => {
    src.destroy();
    if (child.exitCode === null) child.kill();
  });
  return out;
}
