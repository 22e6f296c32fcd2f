import tar from 'tar-stream';

/** A tar archive in memory from (name, bytes) pairs, with fixed mtimes (stable digests). */
export async function tarOf(files: [string, Buffer][]): Promise<Buffer> {
  const pack = tar.pack();
  const parts: Buffer[] = [];
  pack.on('data', (c: unknown) => parts.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, data] of files) await new Promise<void>((r, j) => pack.entry({ name, size: data.length, mtime: new Date(0) }, data, (e) => (e ? j(e) : r())));
  pack.finalize();
  await done;
  return Buffer.concat(parts);
}
