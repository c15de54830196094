export * from './errors.js';
export * from './services.js';
export * from './subjects.js';
export * from './events.js';
export * from './headers.js';
export * from './iam/roles.js';
export * as IamWire from './iam/schemas.js';
export * as KmsWire from './kms/schemas.js';
export * as CryptoWire from './crypto/schemas.js';
