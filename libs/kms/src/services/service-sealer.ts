import { Inject, Injectable } from '@nestjs/common';
import { HsmKeyExistsError, type Hsm } from '@sealbox/hsm';
import { Clock, dataSourceToken } from '@sealbox/platform';
import { createHmac, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { encodeFields, zero } from '../domain/binary.js';
import { viaProvider } from '../domain/provider-errors.js';
import { ServiceSecretEntity } from '../persistence/entities.js';
import { KMS_HSM, KMS_OPTIONS, type KmsDomainOptions } from '../tokens.js';

const FINGERPRINT_KEY = 'material-fingerprint-key';

/**
 * The kms service's own secrets, sealed by an HSM token key (AES-256-GCM in the HSM, never in clear
 * at rest): import token private keys, and the key of material fingerprints (HMAC-SHA-256 of
 * imported key material, so a restore can check it is given the same material and a rotation can
 * refuse to reuse it, without keeping anything that reveals the material).
 */
@Injectable()
export class ServiceSealer {
  private ready: Promise<void> | undefined;

  constructor(
    @Inject(KMS_HSM) private readonly hsm: Hsm,
    @Inject(KMS_OPTIONS) private readonly options: KmsDomainOptions,
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Seal `plaintext` bound to `context` (AAD); base64. */
  async seal(plaintext: Buffer, context: readonly string[]): Promise<string> {
    await this.ensureKey();
    const sealed = await viaProvider(() => this.hsm.encrypt({ label: this.options.serviceKeyLabel }, plaintext, encodeFields(['sealbox/kms/sealed', ...context])));
    return sealed.toString('base64');
  }

  /** Inverse of seal with the same context; the caller zeroes the result. */
  async unseal(sealed: string, context: readonly string[]): Promise<Buffer> {
    await this.ensureKey();
    return viaProvider(() =>
      this.hsm.decrypt({ label: this.options.serviceKeyLabel }, Buffer.from(sealed, 'base64'), encodeFields(['sealbox/kms/sealed', ...context])),
    );
  }

  /** Keyed fingerprint of imported key material, bound to its instance and key (hex). */
  async fingerprint(instanceId: string, keyId: string, material: Buffer): Promise<string> {
    const key = await this.fingerprintKey();
    try {
      return createHmac('sha256', key).update(encodeFields(['sealbox/kms/material-fingerprint/v1', instanceId, keyId, material])).digest('hex');
    } finally {
      zero(key);
    }
  }

  private async fingerprintKey(): Promise<Buffer> {
    const context = [FINGERPRINT_KEY];
    const existing = await this.dataSource.manager.findOne(ServiceSecretEntity, { where: { name: FINGERPRINT_KEY } });
    if (existing) return this.unseal(existing.sealed, context);
    const fresh = randomBytes(32);
    try {
      const sealed = await this.seal(fresh, context);
      // Another replica may create it at the same time: the first row wins, everyone uses it.
      await this.dataSource.manager
        .createQueryBuilder()
        .insert()
        .into(ServiceSecretEntity)
        .values({ name: FINGERPRINT_KEY, sealed, createdAt: this.clock.nowMs() })
        .orIgnore()
        .execute();
    } finally {
      zero(fresh);
    }
    const stored = await this.dataSource.manager.findOneOrFail(ServiceSecretEntity, { where: { name: FINGERPRINT_KEY } });
    return this.unseal(stored.sealed, context);
  }

  private ensureKey(): Promise<void> {
    this.ready ??= this.createKeyIfMissing().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async createKeyIfMissing(): Promise<void> {
    await viaProvider(async () => {
      if (await this.hsm.hasKey(this.options.serviceKeyLabel)) return;
      try {
        await this.hsm.generateKey(this.options.serviceKeyLabel);
      } catch (error) {
        // Another replica made it first.
        if (!(error instanceof HsmKeyExistsError)) throw error;
      }
    });
  }
}
