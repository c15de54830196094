/** The private_cert type: its secret (secret.ts), its configurations (CAs and templates) and their requests. */
export * from './fields.js';
export * from './secret.js';
export * from './configurations.js';
export * from './requests.js';
