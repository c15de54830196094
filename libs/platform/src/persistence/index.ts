export * from './database.js';
export * from './columns.js';
