import type { InputSchema } from '../../src/runner/inputs.js';

export const inputs = {
  'lock-file': { type: 'list', default: 'flake.lock', separator: 'newline' },
  base: { type: 'string', default: '' },
  comment: { type: 'enum', values: ['auto', 'always', 'never'], default: 'auto' },
  'fail-on': { type: 'enum', values: ['never', 'violation', 'change'], default: 'violation' },
  'max-age-days': { type: 'integer', default: '30', min: 0 },
  'github-token': { type: 'string', default: '${{ github.token }}', secret: true },
  installable: { type: 'string', default: '' },
  policy: { type: 'list', default: 'max-age, supported-branch, nixos-owner, no-path, locked, nar-hash' },
  'nixpkgs-inputs': { type: 'list', default: 'nixpkgs' },
  'supported-branches': { type: 'list', default: '' },
  'allowed-hosts': { type: 'list', default: '' },
  'allowed-owners': { type: 'list', default: '' },
} as const satisfies InputSchema;
