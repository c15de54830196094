export * from './render.js';
export * from './schemas.js';
