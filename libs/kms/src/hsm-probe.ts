import pkcs11js from 'pkcs11js';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';

/** Which HSM holds the keys: a PKCS#11 token (SoftHSM2 or a real HSM) or the local soft emulator. */
export type HsmConfig =
  | { readonly backend: 'pkcs11'; readonly library: string; readonly tokenLabel: string; readonly pin: string }
  | { readonly backend: 'soft'; readonly directory: string };

export interface HsmProbe {
  check(): Promise<void>;
  close(): void;
}

/** Find a slot by its token label: slot ids change when a token is (re)initialised. */
function slotByLabel(module: pkcs11js.PKCS11, label: string): Buffer {
  for (const slot of module.C_GetSlotList(true)) {
    if (module.C_GetTokenInfo(slot).label.trim() === label) return slot;
  }
  throw new Error(`no PKCS#11 token labelled "${label}"`);
}

class Pkcs11Probe implements HsmProbe {
  private module: pkcs11js.PKCS11 | undefined;
  private session: Buffer | undefined;

  constructor(private readonly config: Extract<HsmConfig, { backend: 'pkcs11' }>) {}

  async check(): Promise<void> {
    if (!this.module) {
      const module = new pkcs11js.PKCS11();
      module.load(this.config.library);
      module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      this.module = module;
    }
    const slot = slotByLabel(this.module, this.config.tokenLabel);
    if (!this.session) {
      const session = this.module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        this.module.C_Login(session, pkcs11js.CKU_USER, this.config.pin);
      } catch (error) {
        this.module.C_CloseSession(session);
        throw new Error(`cannot log in to the token: ${(error as Error).message.split(':')[0] ?? 'refused'}`);
      }
      this.session = session;
    }
    this.module.C_GetSessionInfo(this.session);
  }

  close(): void {
    if (!this.module) return;
    try {
      if (this.session) this.module.C_CloseSession(this.session);
      this.module.C_Finalize();
    } finally {
      this.module = undefined;
      this.session = undefined;
    }
  }
}

class SoftProbe implements HsmProbe {
  constructor(private readonly directory: string) {}
  async check(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await access(this.directory, constants.W_OK);
  }
  close(): void {}
}

export function hsmProbe(config: HsmConfig): HsmProbe {
  return config.backend === 'pkcs11' ? new Pkcs11Probe(config) : new SoftProbe(config.directory);
}
