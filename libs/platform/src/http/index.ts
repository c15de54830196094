export * from './app.js';
export * from './edge.js';
export * from './error-body.js';
export * from './error.filter.js';
export * from './tracing-hooks.js';
