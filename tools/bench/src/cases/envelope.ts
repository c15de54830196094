/**
 * Envelope encryption (libs/crypto, format v1) in-process, against raw node:crypto AES-256-GCM of the
 * same bytes. `EnvelopeService` is called with Buffers in and out, as the RPC controller calls it (the
 * wire's base64 is the transport's). kms is replaced by a stand-in whose wrap/unwrap is a real
 * AES-256-GCM under an in-memory key, reached through crypto's own `RpcKmsKeys`, so these rows measure
 * crypto's own work (DEK, HKDF, commitment, GCM, envelope layout, DEK cache), not kms, the HSM or
 * NATS: the hsm and kms rows do.
 */
import type { RequestOf, ResponseOf } from '@sealbox/contracts';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache, EnvelopeService, RpcKmsKeys, type KmsKeyClient } from '@sealbox/crypto';
import { SystemClock } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_VERSION_ID = randomUUID();

/**
 * kms's service-facing wrap/unwrap, in-process: AES-256-GCM under one in-memory root key, binding the
 * key and the `aad` array, ciphertext `nonce || sealed || tag` in base64 (a real kms ciphertext adds
 * a 17-byte header). The nonce is a counter under a random prefix (GCM's deterministic construction,
 * unique per key for the stand-in's lifetime): kms's own randomness is kms's cost, not crypto's. A
 * local stand-in: crypto's FakeKms is a test helper left out of the build, and it records every
 * request (memory that grows with the run).
 */
export class InMemoryKms implements KmsKeyClient {
  private readonly rootKey = randomBytes(32);
  private readonly noncePrefix = randomBytes(NONCE_BYTES - 6);
  private counter = 0;
  unwraps = 0;

  send(subject: 'kms.key.wrap', request: RequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
  send(subject: 'kms.key.unwrap', request: RequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
  async send(
    subject: 'kms.key.wrap' | 'kms.key.unwrap',
    request: RequestOf<'kms.key.wrap'> | RequestOf<'kms.key.unwrap'>,
  ): Promise<ResponseOf<'kms.key.wrap'> | ResponseOf<'kms.key.unwrap'>> {
    const aad = Buffer.from(JSON.stringify([request.key.instanceId, request.key.keyId, request.aad ?? []]));
    if (subject === 'kms.key.wrap' && 'plaintext' in request) {
      const dek = Buffer.from(request.plaintext);
      const sealed = Buffer.alloc(NONCE_BYTES + dek.length + TAG_BYTES);
      const nonce = sealed.subarray(0, NONCE_BYTES);
      this.noncePrefix.copy(nonce);
      nonce.writeUIntBE((this.counter += 1), NONCE_BYTES - 6, 6);
      const cipher = createCipheriv('aes-256-gcm', this.rootKey, nonce, { authTagLength: TAG_BYTES }).setAAD(aad);
      cipher.update(dek).copy(sealed, NONCE_BYTES);
      cipher.final();
      cipher.getAuthTag().copy(sealed, NONCE_BYTES + dek.length);
      dek.fill(0);
      return { ciphertext: sealed, keyVersion: { id: KEY_VERSION_ID } };
    }
    if (!('ciphertext' in request)) throw new Error(`${subject}: unexpected request`);
    this.unwraps += 1;
    const blob = Buffer.from(request.ciphertext);
    const decipher = createDecipheriv('aes-256-gcm', this.rootKey, blob.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES })
      .setAAD(aad)
      .setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const plaintext = Buffer.concat([decipher.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
    return { plaintext, keyVersion: { id: KEY_VERSION_ID } };
  }
}

/** Who asks and for what, as secrets would: a Secrets Manager instance, its root key, one version. */
const source = { accountId: 'bench-account', serviceName: 'secrets-manager', serviceInstance: randomUUID() };
const key = { instanceId: randomUUID(), keyId: randomUUID() };
const context = {
  instanceCrn: `crn:v1:sealbox:public:secrets-manager:local:a/${source.accountId}:${source.serviceInstance}::`,
  secretId: randomUUID(),
  versionId: randomUUID(),
};

export const PAYLOAD_SIZES = { '1k': 1024, '64k': 64 * 1024 } as const;
export type PayloadSize = keyof typeof PAYLOAD_SIZES;

/** The real EnvelopeService over the stand-in, its DEK cache with the production defaults. */
export function benchEnvelopeService(): { service: EnvelopeService; kms: InMemoryKms; cache: DekCache } {
  const kms = new InMemoryKms();
  const cache = new DekCache(DEFAULT_DEK_CACHE_OPTIONS, new SystemClock(), null);
  return { service: new EnvelopeService(new RpcKmsKeys(kms), cache), kms, cache };
}

async function measureEnvelope(settings: BenchSettings, size: PayloadSize, mode: 'seal' | 'open'): Promise<Measurement> {
  const plaintext = randomBytes(PAYLOAD_SIZES[size]);
  const { service, cache } = benchEnvelopeService();
  try {
    const sealed = await service.seal({ source, key, context, plaintext });
    const opened = await service.open({ source, key, context, envelope: sealed.envelope });
    if (!opened.plaintext.equals(plaintext)) throw new Error('the envelope did not open to its payload');
    const operation =
      mode === 'seal'
        ? async (): Promise<void> => {
            await service.seal({ source, key, context, plaintext });
          }
        : async (): Promise<void> => {
            // The same envelope every time: the DEK's keys come from the cache (kms every maxUses opens).
            // The caller zeroes the plaintext it gets, as the RPC controller does.
            (await service.open({ source, key, context, envelope: sealed.envelope })).plaintext.fill(0);
          };
    const result = await warmThenMeasure(operation, { ...settings, concurrency: 1 });
    return { unit: 'ops/s', ...result };
  } finally {
    cache.onModuleDestroy();
  }
}

/** node:crypto AES-256-GCM of the same bytes: encrypt with a fresh random key and nonce per op, or decrypt one ciphertext. */
async function measureRawGcm(settings: BenchSettings, size: PayloadSize, mode: 'encrypt' | 'decrypt'): Promise<Measurement> {
  const payload = randomBytes(PAYLOAD_SIZES[size]);
  const encrypt = (key: Buffer, nonce: Buffer): { sealed: Buffer; tag: Buffer } => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([cipher.update(payload), cipher.final()]);
    return { sealed, tag: cipher.getAuthTag() };
  };
  const key = randomBytes(32);
  const nonce = randomBytes(NONCE_BYTES);
  const { sealed, tag } = encrypt(key, nonce);
  const decrypt = (): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES }).setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]);
  };
  if (!decrypt().equals(payload)) throw new Error('AES-256-GCM did not round-trip');
  const operation =
    mode === 'encrypt'
      ? async (): Promise<void> => {
          encrypt(randomBytes(32), randomBytes(NONCE_BYTES));
        }
      : async (): Promise<void> => {
          decrypt();
        };
  const result = await warmThenMeasure(operation, { ...settings, concurrency: 1 });
  return { unit: 'ops/s', ...result };
}

export function envelopeCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const size of Object.keys(PAYLOAD_SIZES) as PayloadSize[]) {
    const bytes = `${PAYLOAD_SIZES[size]} bytes`;
    cases.push(
      {
        name: `aesgcm.raw.encrypt.${size}`,
        description: `node:crypto AES-256-GCM encrypt of ${bytes}, fresh random key and nonce per op, one at a time`,
        run: (current) => measureRawGcm(current, size, 'encrypt'),
      },
      {
        name: `envelope.seal.${size}`,
        description: `EnvelopeService.seal of ${bytes} (Buffers in and out) in-process, kms stand-in = AES-256-GCM in memory, one at a time`,
        baseline: `aesgcm.raw.encrypt.${size}`,
        run: (current) => measureEnvelope(current, size, 'seal'),
      },
      {
        name: `aesgcm.raw.decrypt.${size}`,
        description: `node:crypto AES-256-GCM decrypt of the same ${bytes} ciphertext under its key, one at a time`,
        run: (current) => measureRawGcm(current, size, 'decrypt'),
      },
      {
        name: `envelope.open.${size}`,
        description: `EnvelopeService.open of one ${bytes} envelope (Buffers in and out) again and again, DEK cache on with its defaults (hot), one at a time`,
        baseline: `aesgcm.raw.decrypt.${size}`,
        run: (current) => measureEnvelope(current, size, 'open'),
      },
    );
  }
  return cases;
}
