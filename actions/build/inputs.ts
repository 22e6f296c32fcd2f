import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '.#devcontainer' },
  args: { type: 'list', default: '', separator: 'newline' },
} as const satisfies InputSchema;
