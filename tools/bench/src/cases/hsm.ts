/**
 * Data key wrap + unwrap inside the HSM, raw and in-process: `Pkcs11Hsm` (via `createHsm`) on a
 * throwaway SoftHSM2 token, against a node:crypto AES-256-GCM baseline of the same bytes. One
 * operation = encrypt (wrap) + decrypt (unwrap) of a 32-byte DEK with an AAD, as a kms provider does.
 */
import { createHsm, type HsmBackend, type KeyRef } from '@sealbox/hsm';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';
import { createBenchToken, SOFTHSM2_LIBRARY } from './softhsm2.js';

const DEK_BYTES = 32;

/**
 * An AAD of the size a kms provider hands the HSM (its domain, kind and instance id around crypto's
 * `sealbox-envelope-v1:<sha-256 hex>` entry), so the GCM work matches the kms path.
 */
export function providerLikeAad(): Buffer {
  return Buffer.from(`sealbox/kms-provider/wrap/v1|key-protect|${randomUUID()}|sealbox-envelope-v1:${randomBytes(32).toString('hex')}`);
}

function sameDek(opened: Buffer, dek: Buffer): void {
  const same = opened.equals(dek);
  opened.fill(0);
  if (!same) throw new Error('the unwrapped DEK differs from the wrapped one');
}

/** node:crypto AES-256-GCM seal + open of the DEK under one in-memory key (random nonce, same AAD). */
async function measureRawDek(settings: BenchSettings): Promise<Measurement> {
  const key = randomBytes(32);
  const dek = randomBytes(DEK_BYTES);
  const aad = providerLikeAad();
  const operation = async (): Promise<void> => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 }).setAAD(aad);
    const sealed = Buffer.concat([cipher.update(dek), cipher.final()]);
    const tag = cipher.getAuthTag();
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 }).setAAD(aad).setAuthTag(tag);
    sameDek(Buffer.concat([decipher.update(sealed), decipher.final()]), dek);
  };
  const result = await warmThenMeasure(operation, { ...settings, concurrency: 1 });
  return { unit: 'ops/s', ...result };
}

export type HsmKeyKind = 'token' | 'wrapped';

interface HsmFixture {
  readonly hsm: HsmBackend;
  readonly key: KeyRef;
  close(): Promise<void>;
}

/**
 * A fresh token, the backend as kms configures it (default library and session pool), a token key
 * and, for `wrapped`, a key generated in the HSM and kept outside it as an RFC 5649 blob under the
 * token key (key-protect's root key versions): each call then unwraps it into a session object first.
 */
async function startHsm(kind: HsmKeyKind): Promise<HsmFixture> {
  const token = await createBenchToken();
  const hsm = createHsm({ backend: 'pkcs11', library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin });
  const close = async (): Promise<void> => {
    await hsm.close().catch(() => undefined);
    await token.remove();
  };
  try {
    await hsm.open();
    const master = 'bench-master';
    await hsm.generateKey(master);
    const key: KeyRef = kind === 'token' ? { label: master } : { wrappedBy: master, blob: await hsm.generateWrappedKey(master) };
    return { hsm, key, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function measureHsm(settings: BenchSettings, kind: HsmKeyKind, concurrency: number): Promise<Measurement> {
  const fixture = await startHsm(kind);
  try {
    const dek = randomBytes(DEK_BYTES);
    const aad = providerLikeAad();
    const operation = async (): Promise<void> => {
      const sealed = await fixture.hsm.encrypt(fixture.key, dek, aad);
      sameDek(await fixture.hsm.decrypt(fixture.key, sealed, aad), dek);
    };
    const result = await warmThenMeasure(operation, { ...settings, concurrency });
    return { unit: 'ops/s', ...result };
  } finally {
    await fixture.close();
  }
}

export function hsmCases(settings: BenchSettings): BenchCase[] {
  const pair = 'encrypt + decrypt of a 32-byte DEK with a provider-sized AAD';
  return [
    {
      name: 'aesgcm.raw.dek',
      description: `node:crypto AES-256-GCM ${pair} under one in-memory key, random nonce, one at a time`,
      run: (current) => measureRawDek(current),
    },
    {
      name: 'hsm.pkcs11.wrap-unwrap.seq',
      description: `Pkcs11Hsm (createHsm, SoftHSM2 temp token, default session pool) ${pair} under a token key, one at a time`,
      baseline: 'aesgcm.raw.dek',
      run: (current) => measureHsm(current, 'token', 1),
    },
    {
      name: 'hsm.pkcs11.wrap-unwrap.conc',
      description: `same as hsm.pkcs11.wrap-unwrap.seq, ${settings.concurrency} pairs in flight`,
      baseline: 'aesgcm.raw.dek',
      run: (current) => measureHsm(current, 'token', current.concurrency),
    },
    {
      name: 'hsm.pkcs11.wrapped-key.seq',
      description: `same pair under a wrapped key ({wrappedBy, blob}: C_UnwrapKey into a session object per call, key-protect's path), one at a time`,
      baseline: 'hsm.pkcs11.wrap-unwrap.seq',
      run: (current) => measureHsm(current, 'wrapped', 1),
    },
    {
      name: 'hsm.pkcs11.wrapped-key.conc',
      description: `same as hsm.pkcs11.wrapped-key.seq, ${settings.concurrency} pairs in flight`,
      baseline: 'hsm.pkcs11.wrap-unwrap.conc',
      run: (current) => measureHsm(current, 'wrapped', current.concurrency),
    },
  ];
}
