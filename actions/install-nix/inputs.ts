import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  'nix-version': { type: 'string', default: '' },
  'installer-url': { type: 'string', default: '' },
  'installer-sha256': { type: 'string', default: '' },
  'extra-conf': { type: 'string', default: '' },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
  cache: { type: 'boolean', default: 'false' },
  'cache-max-size': { type: 'string', default: '4G' },
} as const satisfies InputSchema;
