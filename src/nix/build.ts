import type { Nix } from './nix.js';
import { absoluteStorePath } from './storepath.js';

export interface BuiltInstallable {
  drvPath: string;
  outputs: Record<string, string>;
}

/**
 * `nix build --json --no-link` (works from 2.8 on; `--print-out-paths` does not),
 * streaming Nix's log lines to `onLog` so the caller can show them in a group.
 */
export async function build(
  nix: Nix,
  installables: readonly string[],
  options: { extraArgs?: readonly string[]; onLog?: (line: string) => void; outLink?: string } = {},
): Promise<BuiltInstallable[]> {
  const args = ['build', '--json', '-L'];
  if (options.outLink) args.push('--out-link', options.outLink);
  else args.push('--no-link');
  args.push(...(options.extraArgs ?? []), '--', ...installables);
  const json = await nix.json<any[]>(args, `nix build ${installables.join(' ')}`, { onStderrLine: options.onLog });
  return json.map((e) => ({
    drvPath: absoluteStorePath(e.drvPath),
    outputs: Object.fromEntries(Object.entries<string>(e.outputs ?? {}).map(([k, v]) => [k, absoluteStorePath(v)])),
  }));
}
