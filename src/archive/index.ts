export * from './flake.js';
export * from './manifest.js';
export * from './create.js';
export * from './verify.js';
export * from './summary.js';
