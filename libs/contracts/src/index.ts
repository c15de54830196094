export * from './errors.js';
export * from './services.js';
export * from './subjects.js';
export * from './events.js';
export * from './headers.js';
