/**
 * CA private keys under envelope encryption: sealed by crypto like any secret version, bound to
 * (instance CRN, `configuration:<id>`, key id), stored as the envelope's base64 in the CA's row. A key
 * is opened for each signature and never kept: disabling or deleting the instance's root key stops
 * every issuance as soon as crypto drops its cached data keys.
 */
import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError, RpcClient } from '@sealbox/platform';
import type { InstanceEntity } from '../../../registry/entities.js';
import { cryptoSourceOf, rootKeyOf } from '../../vault.js';

function contextOf(instance: InstanceEntity, configurationId: string, keyId: string) {
  return { instanceCrn: instance.crn, secretId: `configuration:${configurationId}`, versionId: keyId };
}

@Injectable()
export class CaKeyVault {
  constructor(private readonly rpc: RpcClient) {}

  /** Seal a PKCS#8 PEM; returns the envelope's base64 (the PEM bytes are zeroed). */
  async seal(instance: InstanceEntity, configurationId: string, keyId: string, pem: string): Promise<string> {
    const plaintext = Buffer.from(pem, 'utf8');
    try {
      const sealed = await this.rpc.send('crypto.envelope.seal', {
        source: cryptoSourceOf(instance),
        key: rootKeyOf(instance),
        context: contextOf(instance, configurationId, keyId),
        plaintext,
      });
      return Buffer.from(sealed.envelope).toString('base64');
    } finally {
      plaintext.fill(0);
    }
  }

  /** Open a sealed CA key and hand its PEM to `use`; the bytes are zeroed once `use` is done. */
  async use<T>(instance: InstanceEntity, configurationId: string, keyId: string, sealed: string, use: (pem: string) => Promise<T>): Promise<T> {
    let opened;
    try {
      opened = await this.rpc.send('crypto.envelope.open', {
        source: cryptoSourceOf(instance),
        key: rootKeyOf(instance),
        context: contextOf(instance, configurationId, keyId),
        envelope: Buffer.from(sealed, 'base64'),
      });
    } catch (error) {
      if (isDomainError(error) && (error.code === 'INTEGRITY_FAILED' || error.code === 'ENVELOPE_INVALID')) {
        throw new DomainError('INTEGRITY_FAILED', `The sealed key of certificate authority ${configurationId} does not verify`);
      }
      throw error;
    }
    const bytes = Buffer.from(opened.plaintext.buffer, opened.plaintext.byteOffset, opened.plaintext.byteLength);
    try {
      return await use(bytes.toString('utf8'));
    } finally {
      bytes.fill(0);
    }
  }
}
