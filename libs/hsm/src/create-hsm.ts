import type { Clock, KeyProtector } from '@sealbox/platform';
import { HsmConfigSchema, type HsmConfig } from './config.js';
import type { Hsm } from './hsm.js';
import { Pkcs11Hsm } from './pkcs11/pkcs11-hsm.js';
import { SoftHsm } from './soft/soft-hsm.js';

/** A backend of the HSM port, as `createHsm` returns it. */
export interface HsmBackend extends Hsm {
  readonly backend: 'pkcs11' | 'soft';
  /**
   * Connect now instead of on the first call, and check the HSM answers (a health probe: it can be
   * called again). Throws HsmUnavailableError with the reason (no token of that label, PIN refused,
   * master key file with a loose mode...).
   */
  open(): Promise<void>;
}

/** What a backend may take from its host besides its configuration. */
export interface HsmDependencies {
  /** Time of the pkcs11 backend's kept unwrapped keys (default: the system clock). */
  readonly clock?: Clock;
  /** The unsealed key store that wraps the soft backend's master key (see SoftHsmOptions.protector). */
  readonly protector?: KeyProtector;
}

/**
 * The HSM backend a configuration names. Validates the configuration (zod; throws on a bad one) and
 * does no I/O: call `open()` to fail fast at start, or let the first call connect.
 */
export function createHsm(config: HsmConfig, dependencies: HsmDependencies = {}): HsmBackend {
  const parsed = HsmConfigSchema.parse(config);
  switch (parsed.backend) {
    case 'pkcs11':
      return new Pkcs11Hsm({ ...parsed, ...(dependencies.clock ? { clock: dependencies.clock } : {}) });
    case 'soft':
      return new SoftHsm({ ...parsed, ...(dependencies.protector ? { protector: dependencies.protector } : {}) });
  }
}
