import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '' },
  image: { type: 'string', default: '' },
  format: { type: 'list', default: 'cyclonedx-json,spdx-json' },
  scope: { type: 'enum', values: ['runtime', 'buildtime'], default: 'runtime' },
  'output-dir': { type: 'string', default: 'sbom' },
  upload: { type: 'boolean', default: 'true' },
  supplier: { type: 'string', default: '' },
  author: { type: 'string', default: '' },
} as const satisfies InputSchema;
