import { Inject, Injectable } from '@nestjs/common';
import type { KmsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, DomainError, notFound, type Caller } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeExact, zero } from '../domain/binary.js';
import {
  generateImportKeyPair,
  KEY_MATERIAL_BYTES,
  openTokenImport,
  requireRetrievable,
  requireUnexpired,
  type OaepAlgorithm,
} from '../domain/import-token.js';
import { ImportTokenEntity, type InstanceEntity } from '../persistence/entities.js';
import { requireInstance } from '../persistence/kms-store.js';
import { KMS_OPTIONS, type KmsDomainOptions } from '../tokens.js';
import { isoDate } from './wire.js';
import { ServiceSealer } from './service-sealer.js';

/** The key material fields of a create, rotate or restore request. */
export interface MaterialFields {
  readonly payload?: string | undefined;
  readonly encryptedNonce?: string | undefined;
  readonly iv?: string | undefined;
  readonly encryptionAlgorithm?: OaepAlgorithm | undefined;
}

export interface ImportedMaterial {
  /** 32 bytes; the caller zeroes it. */
  readonly material: Buffer;
  /** Came with the instance's import token, which the caller consumes in its transaction. */
  readonly viaToken: boolean;
}

const sealContext = (instanceId: string) => ['import-token', instanceId];

/**
 * Import tokens (Key Protect "secure import"): one per instance, an RSA key pair whose public key is
 * handed out (a limited number of retrievals, until it expires) and whose private key, sealed by the
 * HSM, opens key material imported with it. A token serves one import, then is gone.
 */
@Injectable()
export class ImportTokenService {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(KMS_OPTIONS) private readonly options: KmsDomainOptions,
    private readonly sealer: ServiceSealer,
    private readonly clock: Clock,
  ) {}

  /** A new token replaces the instance's previous one. */
  async create(caller: Caller, request: ValidatedRequestOf<'kms.api.import-token.create'>): Promise<KmsWire.ImportTokenMetadata> {
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, request.instanceId);
    const pair = await generateImportKeyPair(this.options.importTokenRsaBits);
    let sealed: string;
    try {
      sealed = await this.sealer.seal(pair.privateKeyDer, sealContext(instance.id));
    } finally {
      zero(pair.privateKeyDer);
    }
    const now = this.clock.nowMs();
    const token = Object.assign(new ImportTokenEntity(), {
      instanceId: instance.id,
      accountId: instance.accountId,
      createdAt: now,
      createdBy: caller.iamId,
      expiresAt: now + request.expiration * 1000,
      expiration: request.expiration,
      maxRetrievals: request.maxAllowedRetrievals,
      remainingRetrievals: request.maxAllowedRetrievals,
      publicKey: pair.publicKeyPem,
      sealedPrivateKey: sealed,
      nonce: pair.nonce.toString('base64'),
    });
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(ImportTokenEntity, { instanceId: instance.id, accountId: instance.accountId });
      await manager.insert(ImportTokenEntity, token);
    });
    return metadataOf(token);
  }

  /** Retrieve the public key and nonce: counts one retrieval. */
  async retrieve(caller: Caller, instanceId: string): Promise<KmsWire.ImportToken> {
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, instanceId);
    const token = await this.requireToken(this.dataSource.manager, instance);
    requireRetrievable(token, this.clock.nowMs());
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(ImportTokenEntity)
      .set({ remainingRetrievals: () => 'remaining_retrievals - 1' })
      .where('instance_id = :instanceId AND account_id = :accountId AND remaining_retrievals > 0 AND created_at = :createdAt', {
        instanceId: instance.id,
        accountId: instance.accountId,
        createdAt: token.createdAt,
      })
      .execute();
    if (result.affected !== 1) {
      throw new DomainError('IMPORT_TOKEN_EXHAUSTED', 'The import token of this instance was retrieved as many times as it allows: create a new one');
    }
    return {
      ...metadataOf({ ...token, remainingRetrievals: token.remainingRetrievals - 1 }),
      payload: Buffer.from(token.publicKey, 'utf8').toString('base64'),
      nonce: token.nonce,
    };
  }

  /**
   * The key material a request carries: none (undefined), plain (`payload` = base64 of 32 bytes), or
   * with the instance's import token (`payload` RSA-OAEP-encrypted, plus `encryptedNonce` and `iv`).
   */
  async materialOf(instance: InstanceEntity, fields: MaterialFields): Promise<ImportedMaterial | undefined> {
    const tokenFields = fields.encryptedNonce !== undefined || fields.iv !== undefined || fields.encryptionAlgorithm !== undefined;
    if (fields.payload === undefined) {
      if (tokenFields) throw new DomainError('INVALID_KEY_MATERIAL', 'encryptedNonce and iv come with a payload encrypted with the import token');
      return undefined;
    }
    if (!tokenFields) return { material: decodeExact(fields.payload, KEY_MATERIAL_BYTES, 'payload', 'INVALID_KEY_MATERIAL'), viaToken: false };
    if (fields.encryptedNonce === undefined || fields.iv === undefined) {
      throw new DomainError('INVALID_KEY_MATERIAL', 'An import with the import token needs payload, encryptedNonce and iv');
    }
    const token = await this.requireToken(this.dataSource.manager, instance);
    requireUnexpired(token, this.clock.nowMs());
    const privateKey = await this.sealer.unseal(token.sealedPrivateKey, sealContext(instance.id));
    const nonce = Buffer.from(token.nonce, 'base64');
    try {
      const material = openTokenImport(
        { payload: fields.payload, encryptedNonce: fields.encryptedNonce, iv: fields.iv, encryptionAlgorithm: fields.encryptionAlgorithm },
        privateKey,
        nonce,
      );
      return { material, viaToken: true };
    } finally {
      zero(privateKey);
    }
  }

  /** A token import used the token up (inside the importing transaction). */
  async consume(manager: EntityManager, instance: InstanceEntity): Promise<void> {
    await manager.delete(ImportTokenEntity, { instanceId: instance.id, accountId: instance.accountId });
  }

  private async requireToken(manager: EntityManager, instance: InstanceEntity): Promise<ImportTokenEntity> {
    const token = await manager.findOne(ImportTokenEntity, { where: { instanceId: instance.id, accountId: instance.accountId } });
    if (!token) throw notFound(`The import token of instance ${instance.id}`);
    return token;
  }
}

function metadataOf(token: Pick<ImportTokenEntity, 'createdAt' | 'expiresAt' | 'expiration' | 'maxRetrievals' | 'remainingRetrievals'>): KmsWire.ImportTokenMetadata {
  return {
    creationDate: isoDate(token.createdAt),
    expirationDate: isoDate(token.expiresAt),
    expiration: token.expiration,
    maxAllowedRetrievals: token.maxRetrievals,
    remainingRetrievals: token.remainingRetrievals,
  };
}
