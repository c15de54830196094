import { HsmIntegrityError, HsmKeyNotFoundError, HsmUnavailableError, type KeyRef } from '@sealbox/hsm';
import { decodeBase64 } from './binding.js';
import { ProviderError, type VersionMaterial } from './provider.js';

/**
 * Runs one HSM call and maps the port's errors to provider codes: HsmIntegrityError → INTEGRITY,
 * HsmUnavailableError → UNAVAILABLE, HsmKeyNotFoundError → what `keyNotFound` says (the meaning of
 * a missing key depends on which key: an HPCS master key → NOT_INITIALIZED, a destroyed local-hsm
 * version → INTEGRITY, the provider's own master key → UNAVAILABLE). Other errors pass unchanged.
 */
export async function hsmCall<T>(call: () => Promise<T>, keyNotFound: (error: HsmKeyNotFoundError) => ProviderError): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw providerErrorOf(error, keyNotFound);
  }
}

export function providerErrorOf(error: unknown, keyNotFound: (error: HsmKeyNotFoundError) => ProviderError): unknown {
  if (error instanceof ProviderError) return error;
  if (error instanceof HsmIntegrityError) {
    return new ProviderError('INTEGRITY', 'The data does not authenticate under this key', { cause: error });
  }
  if (error instanceof HsmUnavailableError) return new ProviderError('UNAVAILABLE', 'The HSM is unavailable', { cause: error });
  if (error instanceof HsmKeyNotFoundError) return keyNotFound(error);
  return error;
}

/**
 * Have the HSM forget the blob versions `versions` wrapped under `wrappedBy` (base64 blobs; one that
 * does not decode is not one of ours and is skipped), each through `call` (the provider's error mapping).
 */
export async function forgetBlobs(
  hsm: { forget(key: KeyRef): Promise<void> },
  wrappedBy: string,
  versions: readonly VersionMaterial[],
  call: (operation: () => Promise<void>) => Promise<void>,
): Promise<void> {
  for (const version of versions) {
    let blob: Buffer;
    try {
      blob = decodeBase64(version, 'root key version');
    } catch {
      continue;
    }
    await call(() => hsm.forget({ wrappedBy, blob }));
  }
}

/** Destroy a token key; one already gone is fine (idempotent). */
export async function destroyIfPresent(hsm: { destroyKey(label: string): Promise<void> }, label: string): Promise<void> {
  try {
    await hsm.destroyKey(label);
  } catch (error) {
    if (error instanceof HsmKeyNotFoundError) return;
    throw providerErrorOf(error, (e) => new ProviderError('UNAVAILABLE', e.message));
  }
}

/**
 * A provider-wide token key created on first use (key-protect's master key, hpcs's ceremony key).
 * Concurrent first uses race on generateKey: the loser's HsmKeyExistsError means the key is there.
 * The check is remembered; `forget()` after the key turned out to be missing.
 */
export class ProviderTokenKey {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly hsm: { hasKey(label: string): Promise<boolean>; generateKey(label: string): Promise<void> },
    readonly label: string,
  ) {}

  ensure(): Promise<void> {
    this.ready ??= this.create().catch((error: unknown) => {
      this.ready = undefined;
      throw providerErrorOf(error, (e) => new ProviderError('UNAVAILABLE', e.message));
    });
    return this.ready;
  }

  forget(): void {
    this.ready = undefined;
  }

  private async create(): Promise<void> {
    if (await this.hsm.hasKey(this.label)) return;
    try {
      await this.hsm.generateKey(this.label);
    } catch (error) {
      if (await this.hsm.hasKey(this.label)) return;
      throw error;
    }
  }
}
