export * from './read.js';
export * from './diff.js';
export * from './summary.js';
