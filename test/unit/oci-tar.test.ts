import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import { indexTar } from '../../src/oci/tar.js';

/** Tars written by tar-stream: ustar, with a pax header for a name too long for ustar. */
async function pack(entries: { name: string; data: Buffer; type?: 'file' | 'directory' }[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory' });
    else p.entry({ name: e.name, size: e.data.length }, e.data);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

it('finds every regular file with its data offset, through pax long names and directories', async () => {
  const long = `nix/store/${'a'.repeat(32)}-${'very-long-name-'.repeat(12)}/layer.tar`;
  const files = [
    { name: './manifest.json', data: Buffer.from('[1]') },
    { name: 'dir/', data: Buffer.alloc(0), type: 'directory' as const },
    { name: long, data: Buffer.alloc(5000, 7) },
    { name: 'empty', data: Buffer.alloc(0) },
  ];
  const bytes = await pack(files);
  const file = join(mkdtempSync(join(tmpdir(), 'tar-')), 'a.tar');
  writeFileSync(file, bytes);
  const entries = await indexTar(file);
  expect(entries.map((e) => [e.path, e.size])).toEqual([
    ['manifest.json', 3],
    [long, 5000],
    ['empty', 0],
  ]);
  const body = readFileSync(file);
  const big = entries[1];
  expect(body.subarray(big.offset, big.offset + big.size).equals(Buffer.alloc(5000, 7))).toBe(true);
  expect(body.subarray(entries[0].offset, entries[0].offset + 3).toString()).toBe('[1]');
});

it('refuses a truncated tar and a file that is no tar', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-'));
  const bytes = await pack([{ name: 'x', data: Buffer.alloc(3000, 1) }]);
  writeFileSync(join(dir, 'cut.tar'), bytes.subarray(0, 2048));
  await expect(indexTar(join(dir, 'cut.tar'))).rejects.toThrow(/truncated tar archive/);
  writeFileSync(join(dir, 'no.tar'), Buffer.alloc(1024, 0x41));
  await expect(indexTar(join(dir, 'no.tar'))).rejects.toThrow(/not a tar archive/);
});
