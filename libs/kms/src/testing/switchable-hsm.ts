import { HsmUnavailableError, type Hsm, type KeyRef } from '@sealbox/hsm';

/**
 * A real HSM behind a switch: `down = true` makes every call fail as an unreachable HSM does
 * (HsmUnavailableError), `down = false` brings it back. For the "HSM unavailable → 503, recovers"
 * tests; swapped in by DI.
 */
export class SwitchableHsm implements Hsm {
  down = false;

  constructor(private readonly inner: Hsm & { open?(): Promise<void> }) {}

  private async call<T>(work: () => Promise<T>): Promise<T> {
    if (this.down) throw new HsmUnavailableError('test: the HSM is switched off');
    return work();
  }

  open(): Promise<void> {
    return this.call(async () => {
      await this.inner.open?.();
    });
  }
  generateKey(label: string): Promise<void> {
    return this.call(() => this.inner.generateKey(label));
  }
  importKey(label: string, material: Buffer): Promise<void> {
    return this.call(() => this.inner.importKey(label, material));
  }
  hasKey(label: string): Promise<boolean> {
    return this.call(() => this.inner.hasKey(label));
  }
  destroyKey(label: string): Promise<void> {
    return this.call(() => this.inner.destroyKey(label));
  }
  generateWrappedKey(wrappingLabel: string): Promise<Buffer> {
    return this.call(() => this.inner.generateWrappedKey(wrappingLabel));
  }
  importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer> {
    return this.call(() => this.inner.importWrappedKey(wrappingLabel, material));
  }
  encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.call(() => this.inner.encrypt(key, plaintext, aad));
  }
  decrypt(key: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.call(() => this.inner.decrypt(key, sealed, aad));
  }
  forget(key: KeyRef): Promise<void> {
    return this.call(() => this.inner.forget(key));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
