/**
 * A typed fake of kms's service-facing wrap/unwrap (test helper; excluded from the build). Requests
 * are validated with the registry schemas as the real handler does; DEKs are really wrapped with
 * AES-256-GCM under in-memory root key versions, bound to the key and the `aad` array, so a wrong
 * key, aad or flipped bit fails to unwrap like it would on kms.
 */
import { Subjects, type RequestOf, type ResponseOf, type ValidatedRequestOf } from '@sealbox/contracts';
import { DomainError, fieldIssuesOf, validationFailed } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { KmsKeyClient } from '../envelope/kms-client.js';

interface RootKey {
  readonly versions: Array<{ readonly id: string; readonly material: Buffer }>;
  disabled: boolean;
}

type WrapRequest = ValidatedRequestOf<'kms.key.wrap'>;
type UnwrapRequest = ValidatedRequestOf<'kms.key.unwrap'>;

/** kms's code for a disabled key (it passes through crypto unchanged). */
export const FAKE_DISABLED_CODE = 'KEY_DISABLED';

export class FakeKms implements KmsKeyClient {
  readonly calls = { wrap: 0, unwrap: 0 };
  /** Every request as received, for assertions on what crypto sends. */
  readonly wrapRequests: WrapRequest[] = [];
  readonly unwrapRequests: UnwrapRequest[] = [];
  /** When set, unwraps wait for it (to interleave events with an unwrap in flight). */
  unwrapGate: Promise<void> | undefined;
  private readonly keys = new Map<string, RootKey>();

  createKey(instanceId: string, keyId: string): void {
    this.keys.set(this.name(instanceId, keyId), { versions: [{ id: `${keyId}-v1`, material: randomBytes(32) }], disabled: false });
  }

  /** A new root key version; returns its id. Older versions still unwrap (with a rewrap). */
  rotate(instanceId: string, keyId: string): string {
    const key = this.key(instanceId, keyId);
    const id = `${keyId}-v${key.versions.length + 1}`;
    key.versions.push({ id, material: randomBytes(32) });
    return id;
  }

  disable(instanceId: string, keyId: string): void {
    this.key(instanceId, keyId).disabled = true;
  }

  enable(instanceId: string, keyId: string): void {
    this.key(instanceId, keyId).disabled = false;
  }

  /** Wrap arbitrary bytes as kms would (tests build hostile envelopes with it). */
  wrapBytes(instanceId: string, keyId: string, plaintext: Buffer, aad: readonly string[]): { ciphertext: Buffer; keyVersion: { id: string } } {
    const key = this.key(instanceId, keyId);
    const index = key.versions.length - 1;
    return { ciphertext: this.seal(instanceId, keyId, index, plaintext, aad), keyVersion: { id: key.versions[index]!.id } };
  }

  send(subject: 'kms.key.wrap', request: RequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
  send(subject: 'kms.key.unwrap', request: RequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
  async send(
    subject: 'kms.key.wrap' | 'kms.key.unwrap',
    request: RequestOf<'kms.key.wrap'> | RequestOf<'kms.key.unwrap'>,
  ): Promise<ResponseOf<'kms.key.wrap'> | ResponseOf<'kms.key.unwrap'>> {
    if (subject === 'kms.key.wrap') {
      const parsed = Subjects['kms.key.wrap'].request.safeParse(request);
      if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
      return this.wrap(parsed.data);
    }
    const parsed = Subjects['kms.key.unwrap'].request.safeParse(request);
    if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
    return this.unwrap(parsed.data);
  }

  private async wrap(request: WrapRequest): Promise<ResponseOf<'kms.key.wrap'>> {
    this.calls.wrap += 1;
    // A snapshot: the DEK's bytes are zeroed by their owner once wrapped.
    this.wrapRequests.push({ ...request, plaintext: Buffer.from(request.plaintext) });
    const key = this.usableKey(request.key.instanceId, request.key.keyId);
    const index = key.versions.length - 1;
    const dek = Buffer.from(request.plaintext);
    try {
      const ciphertext = this.seal(request.key.instanceId, request.key.keyId, index, dek, request.aad);
      return { ciphertext, keyVersion: { id: key.versions[index]!.id } };
    } finally {
      dek.fill(0);
    }
  }

  private async unwrap(request: UnwrapRequest): Promise<ResponseOf<'kms.key.unwrap'>> {
    this.calls.unwrap += 1;
    this.unwrapRequests.push(request);
    if (this.unwrapGate) await this.unwrapGate;
    const { instanceId, keyId } = request.key;
    const key = this.usableKey(instanceId, keyId);
    // As kms: INVALID_CIPHERTEXT when it cannot be a ciphertext, INTEGRITY_FAILED when it does not authenticate.
    const blob = Buffer.from(request.ciphertext);
    if (blob.length <= 1 + 12 + 16) throw new DomainError('INVALID_CIPHERTEXT', 'The ciphertext is too short to be one made by this service');
    const index = blob[0] ?? 255;
    const version = key.versions[index];
    if (!version) throw new DomainError('INTEGRITY_FAILED', 'The ciphertext was not made by this key');
    const decipher = createDecipheriv('aes-256-gcm', version.material, blob.subarray(1, 13), { authTagLength: 16 })
      .setAAD(this.aad(instanceId, keyId, index, request.aad))
      .setAuthTag(blob.subarray(blob.length - 16));
    let dek: Buffer;
    try {
      dek = Buffer.concat([decipher.update(blob.subarray(13, blob.length - 16)), decipher.final()]);
    } catch {
      throw new DomainError('INTEGRITY_FAILED', 'The ciphertext was not made by this key with this aad');
    }
    try {
      const newest = key.versions.length - 1;
      // A copy for the response (the transport's own; this one is zeroed below).
      const response: ResponseOf<'kms.key.unwrap'> = { plaintext: Buffer.from(dek), keyVersion: { id: version.id } };
      if (index === newest) return response;
      return {
        ...response,
        rewrapped: { ciphertext: this.seal(instanceId, keyId, newest, dek, request.aad), keyVersion: { id: key.versions[newest]!.id } },
      };
    } finally {
      dek.fill(0);
    }
  }

  private seal(instanceId: string, keyId: string, index: number, plaintext: Buffer, aad: readonly string[]): Buffer {
    const version = this.key(instanceId, keyId).versions[index]!;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', version.material, nonce, { authTagLength: 16 }).setAAD(
      this.aad(instanceId, keyId, index, aad),
    );
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(index), nonce, sealed, cipher.getAuthTag()]);
  }

  private aad(instanceId: string, keyId: string, index: number, aad: readonly string[]): Buffer {
    return createHash('sha256').update(JSON.stringify([instanceId, keyId, index, aad])).digest();
  }

  private usableKey(instanceId: string, keyId: string): RootKey {
    const key = this.key(instanceId, keyId);
    if (key.disabled) throw new DomainError(FAKE_DISABLED_CODE, `Key ${keyId} is disabled`);
    return key;
  }

  private key(instanceId: string, keyId: string): RootKey {
    const key = this.keys.get(this.name(instanceId, keyId));
    if (!key) throw new DomainError('NOT_FOUND', `Key ${keyId} was not found`);
    return key;
  }

  private name(instanceId: string, keyId: string): string {
    return JSON.stringify([instanceId, keyId]);
  }
}
