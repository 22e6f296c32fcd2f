import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  'lock-file': { type: 'list', default: 'flake.lock', separator: 'newline' },
  base: { type: 'string', default: '' },
  comment: { type: 'enum', values: ['auto', 'always', 'never'], default: 'auto' },
  'fail-on': { type: 'enum', values: ['never', 'violation', 'change'], default: 'violation' },
  'max-age-days': { type: 'integer', default: '30', min: 0 },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
} as const satisfies InputSchema;
