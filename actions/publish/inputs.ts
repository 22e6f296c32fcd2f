import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  image: { type: 'string', default: '' },
  registry: { type: 'string', default: 'ghcr.io' },
  repository: { type: 'string', default: '' },
  tags: { type: 'list', default: '' },
  username: { type: 'string', default: '' },
  password: { type: 'string', default: '', secret: true },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
  labels: { type: 'list', default: '', separator: 'newline' },
  annotations: { type: 'list', default: '', separator: 'newline' },
  index: { type: 'list', default: '' },
  'mount-from': { type: 'list', default: '' },
  'plain-http': { type: 'boolean', default: 'false' },
} as const satisfies InputSchema;
