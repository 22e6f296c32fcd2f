import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary directories removed after the test file's tests, read-only store paths
 * included (an unpacked Nix store is read-only). Call at module level.
 */
export function tempDirs(): ((prefix: string) => string) & { track(dir: string): void } {
  const temps: string[] = [];
  afterAll(() => {
    for (const d of temps) {
      if (!existsSync(d)) continue;
      execFileSync('chmod', ['-R', 'u+w', d]);
      rmSync(d, { recursive: true, force: true });
    }
  });
  const tmp = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  /** Removes a directory made elsewhere (e.g. the runner files of a bundle run) with the others. */
  return Object.assign(tmp, { track: (dir: string) => void temps.push(dir) });
}
