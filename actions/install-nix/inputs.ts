import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  'nix-version': { type: 'string', default: '' },
  'installer-url': { type: 'string', default: '' },
  'installer-sha256': { type: 'string', default: '' },
  'trust-upstream-sha256': { type: 'boolean', default: 'false' },
  'extra-conf': { type: 'string', default: '', multiline: true },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
  cache: { type: 'boolean', default: 'false' },
  'cache-max-size': { type: 'string', default: '4G' },
  'cache-save': { type: 'enum', values: ['post', 'now', 'never'], default: 'post' },
} as const satisfies InputSchema;
