export * from './database.js';
export * from './columns.js';
export * from './unique-violation.js';
export * from './raw-sql.js';
export * from './group-sync.js';
export * from './connection-loss.js';
export * from './commit-deadline.js';
export * from './postgres-tls.js';
