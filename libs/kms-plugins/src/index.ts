export * from './provider.js';
export { wrapAad, encodeFields } from './binding.js';
export * from './config.js';
export * from './registry.js';
export { KeyProtectProvider, type KeyProtectSettings } from './key-protect.js';
export {
  HpcsProvider,
  masterKeyVerificationPattern,
  VERIFICATION_MESSAGE,
  MIN_THRESHOLD,
  MAX_THRESHOLD,
  type HpcsSettings,
} from './hpcs.js';
export { LocalHsmProvider, type LocalHsmSettings } from './local-hsm.js';
