export * from './domain-error.js';
export * from './http-status.js';
export * from './zod-issues.js';
