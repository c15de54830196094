export * from './render.js';
export * from './schemas.js';
export * from './catalogs.js';
