import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  installable: { type: 'string', default: '.#devcontainer' },
  registry: { type: 'string', default: 'ghcr.io' },
  repository: { type: 'string', default: '' },
  tags: { type: 'list', default: '' },
  username: { type: 'string', default: '' },
  password: { type: 'string', default: '', secret: true },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
  'plain-http': { type: 'boolean', default: 'false' },
  'sbom-dir': { type: 'string', default: 'sbom' },
  supplier: { type: 'string', default: '' },
  author: { type: 'string', default: '' },
  'nix-version': { type: 'string', default: '' },
  'installer-url': { type: 'string', default: '' },
  'installer-sha256': { type: 'string', default: '' },
} as const satisfies InputSchema;
