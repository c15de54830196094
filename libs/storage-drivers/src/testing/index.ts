export * from './object-store-conformance.js';
export * from './s3rver.js';
