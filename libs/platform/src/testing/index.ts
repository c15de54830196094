export * from './postgres.js';
export * from './platform.js';
