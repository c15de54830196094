export * from './hsm-conformance.js';
export * from './softhsm2.js';
