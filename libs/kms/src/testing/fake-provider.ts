import {
  ProviderError,
  type InstanceContext,
  type InstanceState,
  type KmsProvider,
  type MasterKeyInfo,
  type ProviderKind,
  type VersionMaterial,
} from '@sealbox/kms-plugins';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';

/**
 * A typed, in-memory KmsProvider for unit tests: real AES-256-GCM with the AAD bound, material held
 * in a map (as if in an HSM). `kind: 'hpcs'` adds the key ceremony (threshold parts from distinct
 * identities) and zeroize, which makes every version of the instance unusable.
 */
export class FakeProvider implements KmsProvider {
  readonly materials = new Map<string, Buffer>();
  readonly calls: string[] = [];
  /** Every `release` call: the instance and the versions named (undefined: all of the instance). */
  readonly released: Array<{ instanceId: string; versions: readonly VersionMaterial[] | undefined }> = [];
  /** Set to make every call fail as if the HSM were down. */
  unavailable = false;

  constructor(readonly kind: ProviderKind = 'key-protect') {}

  async createInstance(instanceId: string, options: { threshold?: number }): Promise<InstanceState> {
    this.check('createInstance');
    return this.kind === 'hpcs' ? { instanceId, threshold: options.threshold ?? 2, parts: [], epoch: '' } : { instanceId };
  }

  async deleteInstance(_context: InstanceContext, versions: readonly VersionMaterial[] = []): Promise<void> {
    this.check('deleteInstance');
    for (const version of versions) this.materials.delete(version);
  }

  async masterKey(context: InstanceContext): Promise<MasterKeyInfo> {
    this.check('masterKey');
    if (this.kind !== 'hpcs') return { status: 'not_applicable' };
    const parts = context.state['parts'] as string[];
    const threshold = context.state['threshold'] as number;
    if (context.state['epoch']) return { status: 'active', threshold, partsLoaded: threshold, verificationPattern: `vp-${String(context.state['epoch'])}` };
    return { status: parts.length ? 'pending' : 'uninitialized', threshold, partsLoaded: parts.length };
  }

  async loadMasterKeyPart(context: InstanceContext, identity: string, part: Buffer) {
    this.check('loadMasterKeyPart');
    if (this.kind !== 'hpcs') throw new ProviderError('NOT_APPLICABLE', `Provider ${this.kind} has no master key ceremony`);
    if (context.state['epoch']) throw new ProviderError('NOT_APPLICABLE', 'The master key is already active: zeroize it first');
    if (part.length !== 32) throw new ProviderError('INVALID_PART', 'A part is 32 bytes');
    const parts = context.state['parts'] as string[];
    if (parts.includes(identity)) throw new ProviderError('DUPLICATE_IDENTITY', 'One part per identity');
    const loaded = [...parts, identity];
    const threshold = context.state['threshold'] as number;
    const state = { ...context.state, parts: loaded.length >= threshold ? [] : loaded, epoch: loaded.length >= threshold ? randomUUID() : '' };
    return { state, info: await this.masterKey({ instanceId: context.instanceId, state }) };
  }

  async zeroizeMasterKey(context: InstanceContext): Promise<InstanceState> {
    this.check('zeroizeMasterKey');
    if (this.kind !== 'hpcs') throw new ProviderError('NOT_APPLICABLE', `Provider ${this.kind} has no master key`);
    return { ...context.state, parts: [], epoch: '' };
  }

  async createVersion(context: InstanceContext, material?: Buffer): Promise<VersionMaterial> {
    this.check('createVersion');
    this.requireActive(context);
    if (material && material.length !== 32) throw new ProviderError('INVALID_MATERIAL', 'Key material is 32 bytes');
    const reference = `fake:${context.instanceId}:${String(context.state['epoch'] ?? '')}:${randomUUID()}`;
    this.materials.set(reference, material ? Buffer.from(material) : randomBytes(32));
    return reference;
  }

  async destroyVersion(_context: InstanceContext, version: VersionMaterial): Promise<void> {
    this.check('destroyVersion');
    this.materials.get(version)?.fill(0);
    this.materials.delete(version);
  }

  async release(context: InstanceContext, versions?: readonly VersionMaterial[]): Promise<void> {
    this.check('release');
    this.released.push({ instanceId: context.instanceId, versions: versions ? [...versions] : undefined });
  }

  async wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer> {
    this.check('wrap');
    if (dek.length === 0 || dek.length > 4096) throw new ProviderError('INVALID_MATERIAL', 'A data key is 1 to 4096 bytes');
    const key = this.materialOf(context, version);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    return Buffer.concat([nonce, cipher.update(dek), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    this.check('unwrap');
    const key = this.materialOf(context, version);
    if (wrapped.length < 12 + 16 + 1) throw new ProviderError('INTEGRITY', 'too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, 12)).setAAD(aad);
      decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
      return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
    } catch {
      throw new ProviderError('INTEGRITY', 'The wrapped key does not authenticate');
    }
  }

  private materialOf(context: InstanceContext, version: VersionMaterial): Buffer {
    this.requireActive(context);
    const [, instanceId, epoch] = version.split(':');
    const material = this.materials.get(version);
    if (!material || instanceId !== context.instanceId || (this.kind === 'hpcs' && epoch !== context.state['epoch'])) {
      throw new ProviderError('INTEGRITY', 'The version material does not belong to this instance or was destroyed');
    }
    return material;
  }

  private requireActive(context: InstanceContext): void {
    if (this.kind === 'hpcs' && !context.state['epoch']) throw new ProviderError('NOT_INITIALIZED', 'No master key');
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.unavailable) throw new ProviderError('UNAVAILABLE', 'The HSM is unavailable');
  }
}
