export * from './postgres.js';
export * from './platform.js';
export * from '../seal/testing/fake-seal-token.js';
