import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './bundle.js';
import type { InputSchema } from '../../src/runner/inputs.js';

/** Every public action: folder name (the `uses:` path) -> entrypoint folder under actions/. */
export const ACTIONS: Record<string, string> = {
  'install-nix': 'install-nix',
  cachix: 'cachix',
  build: 'build',
  sbom: 'sbom',
  'flake-diff': 'flake-diff',
  archive: 'archive',
  publish: 'publish',
  'sbom-diff': 'sbom-diff',
  '.': 'pipeline',
};

export function actionYmlPath(folder: string): string {
  return join(ROOT, folder, 'action.yml');
}

export function readActionYml(folder: string): any {
  return parse(readFileSync(actionYmlPath(folder), 'utf8'));
}

export async function loadSchema(entry: string): Promise<InputSchema> {
  const mod = await import(join(ROOT, 'actions', entry, 'inputs.ts'));
  return mod.inputs as InputSchema;
}
