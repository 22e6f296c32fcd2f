import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '.#devcontainer' },
  scope: { type: 'enum', values: ['build', 'runtime'], default: 'build' },
  path: { type: 'string', default: 'nix-archive' },
  upload: { type: 'boolean', default: 'true' },
  verify: { type: 'boolean', default: 'false' },
} as const satisfies InputSchema;
