export * from './hsm.js';
