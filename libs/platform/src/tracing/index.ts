export * from './tracer.js';
export * from './sdk.js';
