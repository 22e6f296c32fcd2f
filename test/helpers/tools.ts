import { execFileSync } from 'node:child_process';

/**
 * Tests use real Nix, git, docker-registry and skopeo. A missing tool fails the
 * test with a message naming the package to install: it never skips.
 */
export function requireTool(bin: string, debianPackage: string): string {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`'${bin}' is required by this test: apt-get install ${debianPackage} (see .ci/run)`);
  }
}
