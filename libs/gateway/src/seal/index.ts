export * from './seal-control.js';
export * from './seal.routes.js';
export * from './seal.wire.js';
export * from './sealed-app.js';
export * from './sealable-server.js';
