import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '' },
  image: { type: 'string', default: '' },
  format: { type: 'list', default: 'cyclonedx-json,spdx-json' },
  scope: { type: 'enum', values: ['runtime', 'buildtime'], default: 'runtime' },
  'output-dir': { type: 'string', default: 'sbom' },
  upload: { type: 'boolean', default: 'true' },
  'artifact-name': { type: 'string', default: 'sbom' },
  supplier: { type: 'string', default: '' },
  author: { type: 'string', default: '' },
  'end-of-support': { type: 'list', default: '' },
  attest: { type: 'boolean', default: 'false' },
  'subject-name': { type: 'string', default: '' },
  'subject-digest': { type: 'string', default: '' },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
} as const satisfies InputSchema;
