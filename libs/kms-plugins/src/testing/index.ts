export * from './conformance.js';
export * from './hpcs-ceremony.js';
export * from './fake-hsm.js';
export * from './helpers.js';
