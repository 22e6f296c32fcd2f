import { absoluteStorePath } from './storepath.js';
import type { Nix } from './nix.js';

/** A store derivation in one shape for every Nix version. */
export interface Derivation {
  drvPath: string;
  name: string;
  system: string;
  builder: string;
  args: string[];
  /** output name -> output path (absent for floating content-addressed outputs). */
  outputs: Record<string, { path?: string; hashAlgo?: string; hash?: string; method?: string }>;
  /** input derivation -> the outputs of it that are used. */
  inputDrvs: Record<string, string[]>;
  inputSrcs: string[];
  env: Record<string, string>;
}

/**
 * Normalises `nix show-derivation` / `nix derivation show` JSON:
 * - Nix 2.8: `{ "/nix/store/x.drv": { outputs: {out: {path}}, inputDrvs: {drv: ["out"]}, inputSrcs, env } }`
 * - Nix 2.18+: inputDrvs values are `{ outputs: [...], dynamicOutputs: {} }`
 * - format v3: paths are bare base names; v4: `{ version, derivations: {...} }` with
 *   `inputs: { srcs, drvs }`.
 */
export function normalizeDerivations(json: unknown): Map<string, Derivation> {
  const root = json as Record<string, any>;
  const table: Record<string, any> =
    root && typeof root === 'object' && root.derivations && typeof root.derivations === 'object' ? root.derivations : root;
  const out = new Map<string, Derivation>();
  for (const [key, d] of Object.entries(table ?? {})) {
    if (!d || typeof d !== 'object') continue;
    const drvPath = absoluteStorePath(key);
    const outputs: Derivation['outputs'] = {};
    for (const [name, o] of Object.entries<any>(d.outputs ?? {})) {
      outputs[name] = {
        path: o?.path ? absoluteStorePath(o.path) : undefined,
        hashAlgo: o?.hashAlgo,
        hash: o?.hash,
        method: o?.method,
      };
    }
    const rawDrvs = d.inputDrvs ?? d.inputs?.drvs ?? {};
    const inputDrvs: Record<string, string[]> = {};
    for (const [p, v] of Object.entries<any>(rawDrvs)) {
      inputDrvs[absoluteStorePath(p)] = Array.isArray(v) ? v : (v?.outputs ?? []);
    }
    const inputSrcs: string[] = (d.inputSrcs ?? d.inputs?.srcs ?? []).map((p: string) => absoluteStorePath(p));
    const env: Record<string, string> = d.env ?? {};
    out.set(drvPath, {
      drvPath,
      name: d.name ?? env.name ?? '',
      system: d.system ?? '',
      builder: d.builder ?? '',
      args: d.args ?? [],
      outputs,
      inputDrvs,
      inputSrcs,
      env,
    });
  }
  return out;
}

/** Shows the derivations of installables or .drv paths; with `recursive`, their whole build graph. */
export async function showDerivations(
  nix: Nix,
  installables: readonly string[],
  options: { recursive?: boolean; extraArgs?: readonly string[] } = {},
): Promise<Map<string, Derivation>> {
  const args = [...nix.derivationShowCommand()];
  if (options.recursive) args.push('--recursive');
  args.push(...(options.extraArgs ?? []), '--', ...installables);
  return normalizeDerivations(await nix.json(args, `nix ${nix.derivationShowCommand().join(' ')}`));
}

/** True when a derivation is fixed-output (a fetched source whose hash is known up front). */
export function isFixedOutput(drv: Derivation): boolean {
  const outs = Object.values(drv.outputs);
  return outs.length === 1 && Boolean(outs[0].hash) && Boolean(drv.outputs.out);
}
