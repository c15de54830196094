export * from './hsm.js';
export * from './config.js';
export * from './create-hsm.js';
export { Pkcs11Hsm, DEFAULT_PKCS11_LIBRARY, DEFAULT_PKCS11_SESSIONS, type Pkcs11HsmOptions } from './pkcs11/pkcs11-hsm.js';
export { SoftHsm, SOFT_HSM_MASTER_KEY_PURPOSE, type SoftHsmOptions } from './soft/soft-hsm.js';
export { pkcs11SealOptionsFrom, pkcs11SealToken } from './pkcs11/seal-token.js';
