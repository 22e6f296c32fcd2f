// ESM + TypeScript through ts-jest; run with --experimental-vm-modules (see package.json).
// Type checking is `npm run lint` (tsc), so ts-jest only transpiles: fast and the same result.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Integration and e2e tests start real Nix builds, registries and bundles.
  testTimeout: 120000,
  maxWorkers: 2,
};
