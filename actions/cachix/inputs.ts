import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  name: { type: 'string', default: '' },
  'auth-token': { type: 'string', default: '', secret: true },
  'signing-key': { type: 'string', default: '', secret: true },
  push: { type: 'enum', values: ['auto', 'true', 'false'], default: 'auto' },
  'push-filter': { type: 'string', default: '' },
  'extra-pull-names': { type: 'list', default: '' },
  substituter: { type: 'string', default: '' },
  'public-key': { type: 'string', default: '' },
  'push-to': { type: 'string', default: '' },
  'fail-on-push-error': { type: 'boolean', default: 'false' },
  'push-timeout': { type: 'integer', default: '600', min: 1, max: 21600 },
  paths: { type: 'list', default: '' },
} as const satisfies InputSchema;
