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
} as const satisfies InputSchema;
