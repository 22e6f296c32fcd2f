import type { InputSchema } from '../../src/runner/inputs.js';

// base and head are both needed; they are checked in main.ts (not `required:`) so
// that each one's absence is reported by its own name.
export const inputs = {
  base: { type: 'string', default: '' },
  head: { type: 'string', default: '' },
  report: { type: 'string', default: 'sbom-diff.json' },
  'fail-on': { type: 'enum', values: ['never', 'change'], default: 'never' },
} as const satisfies InputSchema;
