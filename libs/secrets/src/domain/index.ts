export * from './password.js';
export * from './certificate.js';
export * from './listing.js';
export * from './context.js';
