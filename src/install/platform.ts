import { UserError } from '../errors.js';

/** The Nix system names the official binary tarballs are built for, and that we install. */
export const SUPPORTED_SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'aarch64-darwin'] as const;
export type NixSystem = (typeof SUPPORTED_SYSTEMS)[number];

/** Maps Node's platform/arch to a Nix system; a clear error for anything else. */
export function detectSystem(platform: string = process.platform, arch: string = process.arch): NixSystem {
  const key = `${platform}/${arch}`;
  switch (key) {
    case 'linux/x64':
      return 'x86_64-linux';
    case 'linux/arm64':
      return 'aarch64-linux';
    case 'darwin/arm64':
      return 'aarch64-darwin';
    default:
      throw new UserError(`install-nix does not support this runner (${platform} ${arch})`, {
        hint: `Use a runner for one of ${SUPPORTED_SYSTEMS.join(', ')}`,
      });
  }
}

/** `Linux`/`macOS` and `X64`/`ARM64`, spelled as the runner spells RUNNER_OS/RUNNER_ARCH (cache keys). */
export function runnerOsArch(system: NixSystem): { os: string; arch: string } {
  const [cpu, kernel] = system.split('-');
  return { os: kernel === 'darwin' ? 'macOS' : 'Linux', arch: cpu === 'x86_64' ? 'X64' : 'ARM64' };
}
