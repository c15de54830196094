export * from './provider.js';
export { wrapAad, encodeFields } from './binding.js';
export * from './plugin.js';
export * from './registry.js';
export { KeyProtectProvider, KeyProtectProviderConfig, keyProtectPlugin, type KeyProtectSettings } from './key-protect.js';
export {
  HpcsProvider,
  HpcsProviderConfig,
  hpcsPlugin,
  masterKeyVerificationPattern,
  VERIFICATION_MESSAGE,
  MIN_THRESHOLD,
  MAX_THRESHOLD,
  type HpcsSettings,
} from './hpcs.js';
export { LocalHsmProvider, LocalHsmProviderConfig, localHsmPlugin, type LocalHsmSettings } from './local-hsm.js';
