import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { uploadArtifact } from '../../src/runner/services.js';

/** The edge to the Actions artifact service: upload the archive directory as one artifact. */
export async function uploadDirectory(dir: string): Promise<{ id?: number; size?: number; name: string }> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  const name = basename(dir);
  const r = await uploadArtifact({ name, files: files.sort(), rootDirectory: dir });
  return { ...r, name };
}
