export * from './loader.js';
export * from './fragments.js';
