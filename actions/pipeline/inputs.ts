import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '.#devcontainer' },
  registry: { type: 'string', default: 'ghcr.io' },
  repository: { type: 'string', default: '' },
  tags: { type: 'list', default: '' },
  username: { type: 'string', default: '${{ github.actor }}' },
  password: { type: 'string', default: '${{ github.token }}', secret: true },
} as const satisfies InputSchema;
