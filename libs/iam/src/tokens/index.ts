import type { Provider } from '@nestjs/common';
import type { MigrationInterface } from 'typeorm';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { TokenSigningKeysAndRefreshTokens1764400000001 } from './1764400000001-tokens.js';
import { openSealedKeyFile } from '@sealbox/platform';
import { AesGcmMasterKey, IAM_MASTER_KEY_PURPOSE, loadMasterKeyFile, MasterKey } from './master-key.js';
import { TokenRevocations1764700000001 } from './1764700000001-token-revocations.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { TokenRevocationEntity } from './revocation.entity.js';
import { TokenRevocations } from './revocations.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { SigningKeyRing } from './signing-keys.js';
import { TokenService } from './token.service.js';

export * from './master-key.js';
export * from './refresh-token.entity.js';
export * from './revocation.entity.js';
export * from './revocations.js';
export * from './signing-key.entity.js';
export * from './signing-keys.js';
export * from './token.service.js';

/** Entities and migrations of the tokens area (signing keys, refresh tokens). */
export const tokenEntities: (new () => object)[] = [SigningKeyEntity, RefreshTokenEntity, TokenRevocationEntity];
export const tokenMigrations: (new () => MigrationInterface)[] = [TokenSigningKeysAndRefreshTokens1764400000001, TokenRevocations1764700000001];

/** The master key: wrapped by the key store when the host gives one (standalone), else the clear key file. */
async function masterKeyOf(options: IamOptions): Promise<MasterKey> {
  const sealed = options.sealedMasterKey;
  if (!sealed) return loadMasterKeyFile(options.masterKeyFile);
  const key = await openSealedKeyFile({
    path: sealed.file,
    purpose: IAM_MASTER_KEY_PURPOSE,
    protector: sealed.protector,
    legacyClearPath: options.masterKeyFile,
  });
  return new AesGcmMasterKey(key);
}

/** Providers of the tokens area; the master key comes from `IamOptions` (see masterKeyOf). */
export const tokenProviders: Provider[] = [
  { provide: MasterKey, inject: [IAM_OPTIONS], useFactory: masterKeyOf },
  SigningKeyRing,
  TokenService,
  TokenRevocations,
];
