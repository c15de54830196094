import type { RequestOf, ResponseOf } from '@sealbox/contracts';

/**
 * The two kms subjects crypto uses, as a narrow port on their wire shapes: the platform RpcClient
 * satisfies it (the module binds it with `useExisting`), and tests pass a typed fake. Errors are
 * kms's DomainErrors, unchanged.
 */
export interface KmsKeyClient {
  send(subject: 'kms.key.wrap', request: RequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
  send(subject: 'kms.key.unwrap', request: RequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
}

type Source = RequestOf<'kms.key.wrap'>['source'];
type KeyRef = RequestOf<'kms.key.wrap'>['key'];

/** A DEK as kms wrapped it: the `ciphertext` string (stored as is in an envelope) and the root key version. */
export interface WrappedDek {
  readonly wrappedDek: string;
  readonly keyVersionId: string;
}

export interface UnwrappedDek {
  /** The DEK kms unwrapped, in a Buffer of its own: the caller zeroes it. */
  readonly dek: Buffer;
  /** Present when kms unwrapped with an older root key version: the same DEK under the newest. */
  readonly rewrapped?: WrappedDek;
}

/**
 * What the envelope needs of kms, in bytes: wrap a DEK, unwrap one. `aad` is the one entry binding the
 * envelope context (`kmsAadOf`).
 */
export interface KmsKeys {
  wrap(request: { source: Source; key: KeyRef; dek: Buffer; aad: string }): Promise<WrappedDek>;
  unwrap(request: { source: Source; key: KeyRef; wrappedDek: string; aad: string }): Promise<UnwrappedDek>;
}

/**
 * `KmsKeys` over the kms subjects, which carry bytes: the ONE place where crypto turns kms's ciphertext
 * into the envelope's wrapped-DEK text and back (format v1 stores kms's ciphertext as its canonical
 * base64, so the envelope bytes are what they always were).
 */
export class RpcKmsKeys implements KmsKeys {
  constructor(private readonly client: KmsKeyClient) {}

  async wrap(request: { source: Source; key: KeyRef; dek: Buffer; aad: string }): Promise<WrappedDek> {
    const { source, key, dek, aad } = request;
    const wrapped = await this.client.send('kms.key.wrap', { source, key, plaintext: dek, aad: [aad] });
    return { wrappedDek: textOf(wrapped.ciphertext), keyVersionId: wrapped.keyVersion.id };
  }

  async unwrap(request: { source: Source; key: KeyRef; wrappedDek: string; aad: string }): Promise<UnwrappedDek> {
    const { source, key, wrappedDek, aad } = request;
    const unwrapped = await this.client.send('kms.key.unwrap', { source, key, ciphertext: Buffer.from(wrappedDek, 'base64'), aad: [aad] });
    // A Buffer of its own (the caller zeroes it), and the reply's copy zeroed.
    const dek = Buffer.from(unwrapped.plaintext);
    unwrapped.plaintext.fill(0);
    const rewrapped = unwrapped.rewrapped;
    return rewrapped ? { dek, rewrapped: { wrappedDek: textOf(rewrapped.ciphertext), keyVersionId: rewrapped.keyVersion.id } } : { dek };
  }
}

/** kms's ciphertext as the envelope stores it. */
function textOf(ciphertext: Uint8Array): string {
  return Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength).toString('base64');
}
