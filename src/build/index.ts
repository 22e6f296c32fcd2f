export * from './build.js';
export * from './versions.js';
export * from './summary.js';
export * from './untrusted.js';
