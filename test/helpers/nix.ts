import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireTool } from './tools.js';

/**
 * Offline test flakes: derivations from `builtins.derivation` with /bin/sh and host
 * tools, no nixpkgs, no substituters, no sandbox. They build in milliseconds.
 */
export const NIX_TEST_CONF = [
  'experimental-features = nix-command flakes',
  'sandbox = false',
  'substituters =',
  'flake-registry =',
  'warn-dirty = false',
].join('\n');

export function nixEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  requireTool('nix', 'nix-bin');
  return { ...process.env, NIX_CONFIG: NIX_TEST_CONF, ...extra };
}

export const SYSTEM = process.arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux';

/** A unique salt so each test run builds fresh store paths (no cross-test sharing). */
export const salt = (): string => randomBytes(6).toString('hex');

/**
 * The prelude every test flake gets: `mk name script` makes a derivation that runs
 * `script` with /bin/sh and the host's PATH; `$out` is set by Nix.
 */
export function flakeNix(body: string, options: { inputs?: string; description?: string } = {}): string {
  return `{
  description = ${JSON.stringify(options.description ?? 'test flake')};
  inputs = { ${options.inputs ?? ''} };
  outputs = { self, ... }@inputs: let
    system = "${SYSTEM}";
    mk = name: script: derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" script ];
      PATH = "/usr/local/bin:/usr/bin:/bin";
    };
    mkWith = attrs: derivation ({
      inherit system;
      builder = "/bin/sh";
      PATH = "/usr/local/bin:/usr/bin:/bin";
    } // attrs);
  in ${body};
}
`;
}

/** Writes a flake directory and returns its path (use `path:<dir>` as the flake ref). */
export function writeFlake(body: string, options: { dir?: string; inputs?: string; files?: Record<string, string> } = {}): string {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nix-actions-flake-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'flake.nix'), flakeNix(body, options));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  return dir;
}
