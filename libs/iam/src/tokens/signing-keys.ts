import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock, dataSourceToken, LOGGER, outboxToken, type Outbox } from '@sealbox/platform';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { LessThanOrEqual, MoreThan, QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { MasterKey } from './master-key.js';
import { SigningKeyEntity } from './signing-key.entity.js';

/**
 * How often a replica re-reads which key is active before signing: another replica's rotation is
 * picked up within this time. A rotated-out key stays in the JWKS this much longer than the overlap,
 * so a token a replica signs with it just after a rotation still verifies until it expires.
 */
export const ACTIVE_KEY_RECHECK_MS = 5_000;
const ROTATION_ATTEMPTS = 5;

export interface EcPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

export interface Signer {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface RotationResult {
  readonly kid: string;
  /** Rotated-out keys that still verify. */
  readonly retiring: string[];
}

const generateEcKeyPair = promisify(generateKeyPair);

/** The AAD of a sealed private key: it opens only as the key it was sealed for. */
export const sealedKeyContext = (kid: string) => Buffer.from(`sealbox/iam/signing-key/v1/${kid}`);

async function publicJwkOf(key: KeyObject): Promise<EcPublicJwk> {
  const { kty, crv, x, y } = await exportJWK(key);
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
    throw new Error('A token signing key must be an EC P-256 key');
  }
  return { kty: 'EC', crv: 'P-256', x, y };
}

/** The key's id: its RFC 7638 JWK thumbprint (SHA-256, base64url). */
const thumbprint = (jwk: EcPublicJwk): Promise<string> => calculateJwkThumbprint(jwk, 'sha256');

/**
 * The token signing keys: creates the first one at start, signs with the active one, rotates, and
 * lists the public keys that verify.
 *
 * Replicas: a partial unique index keeps at most one active key. Replicas starting together race to
 * insert the first key; the losers' insert fails and they adopt the winner's. Concurrent rotations
 * serialize the same way (the loser retries, so both rotations happen). Each replica caches the
 * unsealed active key and re-reads the active kid at most every ACTIVE_KEY_RECHECK_MS.
 */
@Injectable()
export class SigningKeyRing implements OnApplicationBootstrap {
  private current: { readonly signer: Signer; readonly checkedAt: number } | undefined;
  private reloading: Promise<Signer> | undefined;
  /** Public keys already checked against their sealed private key; a kid never changes its key. */
  private readonly verified = new Map<string, EcPublicJwk>();

  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly masterKey: MasterKey,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.signer();
  }

  /** The active key, creating the first one if there is none. */
  async signer(): Promise<Signer> {
    const now = this.clock.nowMs();
    const cached = this.current;
    if (cached && now >= cached.checkedAt && now - cached.checkedAt < ACTIVE_KEY_RECHECK_MS) return cached.signer;
    this.reloading ??= this.reload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /** Public keys that verify tokens: the active key and the retiring ones until their retire time. */
  async publicKeys(): Promise<(EcPublicJwk & { readonly kid: string })[]> {
    const rows = await this.dataSource.getRepository(SigningKeyEntity).find({
      where: [{ state: 'active' }, { state: 'retiring', retireAt: MoreThan(this.clock.nowMs()) }],
      // The active key first, then the retiring ones, newest first.
      order: { state: 'ASC', createdAt: 'DESC', kid: 'ASC' },
    });
    const keys: (EcPublicJwk & { readonly kid: string })[] = [];
    for (const row of rows) {
      const jwk = await this.verifiedPublicKey(row);
      if (jwk) keys.push({ ...jwk, kid: row.kid });
    }
    return keys;
  }

  /** A new active key; the active one becomes retiring until now + overlap. */
  async rotate(): Promise<RotationResult> {
    for (let attempt = 1; ; attempt++) {
      const fresh = await this.generate();
      try {
        const retiring = await this.dataSource.transaction(async (manager) => {
          const now = this.clock.nowMs();
          await manager.update(SigningKeyEntity, { state: 'retiring', retireAt: LessThanOrEqual(now) }, { state: 'retired' });
          await manager.update(
            SigningKeyEntity,
            { state: 'active' },
            { state: 'retiring', retireAt: now + this.options.signingKeyOverlapSeconds * 1000 + ACTIVE_KEY_RECHECK_MS },
          );
          await this.insertKey(manager, { ...fresh.row, createdAt: now });
          const rows = await manager.find(SigningKeyEntity, { where: { state: 'retiring' }, order: { createdAt: 'DESC', kid: 'ASC' } });
          return rows.map((row) => row.kid);
        });
        this.current = { signer: fresh.signer, checkedAt: this.clock.nowMs() };
        this.logger.info({ kid: fresh.signer.kid, retiring }, 'token signing key rotated');
        return { kid: fresh.signer.kid, retiring };
      } catch (error) {
        // Another replica rotated at the same moment and its new key is active now: rotate again.
        if (!(error instanceof QueryFailedError) || attempt >= ROTATION_ATTEMPTS) throw error;
      }
    }
  }

  private async reload(): Promise<Signer> {
    const checkedAt = this.clock.nowMs();
    const repository = this.dataSource.getRepository(SigningKeyEntity);
    let row = await repository.findOneBy({ state: 'active' });
    if (!row) row = await this.createFirstKey();
    const signer = this.current?.signer.kid === row.kid ? this.current.signer : await this.unseal(row);
    this.current = { signer, checkedAt };
    return signer;
  }

  private async createFirstKey(): Promise<SigningKeyEntity> {
    const fresh = await this.generate();
    try {
      await this.dataSource.transaction((manager) => this.insertKey(manager, fresh.row));
      this.logger.info({ kid: fresh.row.kid }, 'token signing key created');
      return fresh.row;
    } catch (error) {
      // Another replica created it first: use theirs.
      const winner = await this.dataSource.getRepository(SigningKeyEntity).findOneBy({ state: 'active' });
      if (winner) return winner;
      throw error;
    }
  }

  private async insertKey(manager: EntityManager, row: SigningKeyEntity): Promise<void> {
    await manager.insert(SigningKeyEntity, row);
    await this.outbox.record(manager, 'iam.signing-key.rotated', { kid: row.kid });
  }

  private async generate(): Promise<{ row: SigningKeyEntity; signer: Signer }> {
    const { privateKey, publicKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
    const jwk = await publicJwkOf(publicKey);
    const kid = await thumbprint(jwk);
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    let sealed: Buffer;
    try {
      sealed = await this.masterKey.seal(der, sealedKeyContext(kid));
    } finally {
      der.fill(0);
    }
    this.verified.set(kid, jwk);
    const row: SigningKeyEntity = {
      kid,
      state: 'active',
      publicJwk: JSON.stringify(jwk),
      privateKeySealed: sealed.toString('base64'),
      createdAt: this.clock.nowMs(),
      retireAt: null,
    };
    return { row, signer: { kid, privateKey } };
  }

  /** Open the sealed private key and check it belongs to the stored public key and kid. */
  private async unseal(row: SigningKeyEntity): Promise<Signer> {
    const der = await this.masterKey.open(Buffer.from(row.privateKeySealed, 'base64'), sealedKeyContext(row.kid));
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
    const jwk = await publicJwkOf(createPublicKey(privateKey));
    const stored = JSON.parse(row.publicJwk) as Partial<EcPublicJwk>;
    const sameKey = stored.kty === jwk.kty && stored.crv === jwk.crv && stored.x === jwk.x && stored.y === jwk.y;
    if ((await thumbprint(jwk)) !== row.kid || !sameKey) {
      throw new Error(`Token signing key ${row.kid}: the stored public key does not match the sealed private key`);
    }
    this.verified.set(row.kid, jwk);
    return { kid: row.kid, privateKey };
  }

  private async verifiedPublicKey(row: SigningKeyEntity): Promise<EcPublicJwk | undefined> {
    const known = this.verified.get(row.kid);
    if (known) return known;
    try {
      await this.unseal(row);
      return this.verified.get(row.kid);
    } catch (error) {
      this.logger.error(
        { kid: row.kid, err: error instanceof Error ? error.message : String(error) },
        'token signing key refused: it does not open with the master key or its public key was changed',
      );
      return undefined;
    }
  }
}
