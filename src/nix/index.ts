export * from './nix.js';
export * from './storepath.js';
export * from './hash.js';
export * from './pathinfo.js';
export * from './derivation.js';
export * from './build.js';
