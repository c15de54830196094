import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EpochMsColumn } from '@sealbox/platform';

/** active: signs new tokens; retiring: still verifies until `retireAt`; retired: kept for the record. */
export type SigningKeyState = 'active' | 'retiring' | 'retired';

/**
 * An ES256 (P-256) token signing key. The private key is stored only sealed by the platform master
 * key, its AAD naming the kid; the kid is the RFC 7638 thumbprint of the public key, so a public key
 * swapped in the database no longer matches the sealed private key and is refused.
 * At most one key is active (partial unique index).
 */
@Entity({ name: 'signing_keys' })
@Index('signing_keys_one_active', ['state'], { unique: true, where: "state = 'active'" })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: SigningKeyState;

  /** The public key as a JWK (`kty`, `crv`, `x`, `y`), JSON. */
  @Column({ name: 'public_jwk', type: 'text' })
  publicJwk!: string;

  /** PKCS#8 DER of the private key sealed by the master key, base64. */
  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  /** Set when the key stops signing: it verifies until then. */
  @EpochMsColumn('retire_at', { nullable: true })
  retireAt!: number | null;
}
