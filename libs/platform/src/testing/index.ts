export * from './postgres.js';
export * from './platform.js';
export * from '../seal/testing/fake-seal-token.js';
export * from './pki.js';
export * from './private-postgres.js';
