export * from './detect.js';
export * from './layers.js';
export * from './closure.js';
