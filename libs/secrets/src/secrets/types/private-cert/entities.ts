import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from '../../entities.js';

/** A revoked certificate on a CA's CRL. */
export interface RevokedCertificate {
  /** Hex, as in the certificate. */
  readonly serial: string;
  readonly revokedAt: number;
}

/**
 * One configuration of the private_cert engine (root CA, intermediate CA or template) of one
 * instance. `settings` holds the prototype's fields as given (never a key). A CA's private key is
 * `sealedKey`: an envelope from crypto.envelope.seal bound to (instance CRN, `configuration:<id>`,
 * `keyId`), so it opens only for this CA of this instance and only while the instance's root key
 * unwraps. Certificates, chains and CRLs are public and kept in clear.
 */
@Entity({ name: 'private_cert_configurations' })
export class PrivateCertConfigurationEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  name!: string;

  @AccountIdColumn()
  accountId!: string;

  /** A UUID: the envelope context of the CA's key. */
  @Column({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'config_type', type: 'varchar', length: 64 })
  configType!: string;

  @Column({ type: 'text', transformer: jsonText })
  settings!: Record<string, unknown>;

  /** CAs: configured, signing_required, revoked… (null for a template). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  status!: string | null;

  /** The CA that signed this CA (intermediates), or that a template issues from. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  issuer!: string | null;

  /** A CA's own certificate (PEM). */
  @Column({ type: 'text', nullable: true })
  certificate!: string | null;

  /** The CA's chain up to its root, issuer first (PEM each). */
  @Column({ name: 'ca_chain', type: 'text', transformer: jsonText })
  caChain!: string[];

  /** An external intermediate's CSR (PEM) until its signed certificate is set. */
  @Column({ type: 'text', nullable: true })
  csr!: string | null;

  @Column({ name: 'key_id', type: 'varchar', length: 36, nullable: true })
  keyId!: string | null;

  /** base64 of the envelope sealing the CA's PKCS#8 private key. */
  @Column({ name: 'sealed_key', type: 'text', nullable: true })
  sealedKey!: string | null;

  @Column({ type: 'text', transformer: jsonText })
  revoked!: RevokedCertificate[];

  /** The CA's current CRL (PEM), re-signed on every revocation and before it expires. */
  @Column({ type: 'text', nullable: true })
  crl!: string | null;

  @Column({ name: 'crl_number', type: 'integer' })
  crlNumber!: number;

  @EpochMsColumn('crl_next_update', { nullable: true })
  crlNextUpdate!: number | null;

  @EpochMsColumn('expiration_at', { nullable: true })
  expirationAt!: number | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;
}
