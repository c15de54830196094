import { randomUUID } from 'node:crypto';
import type { Hsm } from '@sealbox/hsm';
import { z } from 'zod';
import { hsmLabelPrefix, instanceLabelPart, requireDek, requireInstanceId, requireKeyMaterial, requireSealed, wrapAad } from './binding.js';
import { destroyIfPresent, hsmCall } from './hsm-errors.js';
import {
  ProviderError,
  type InstanceContext,
  type InstanceState,
  type KmsProvider,
  type MasterKeyInfo,
  type VersionMaterial,
} from './provider.js';
import { definePlugin } from './plugin.js';

/** Settings of the local-hsm plugin. */
export const LocalHsmProviderConfig = z.strictObject({
  kind: z.literal('local-hsm'),
  /** Root key versions are token keys `<labelPrefix>-<instance>-<uuid>`. */
  labelPrefix: hsmLabelPrefix.default('lh'),
});

export interface LocalHsmSettings {
  /** Labels of root key versions: `<labelPrefix>-<instance>-<uuid>` (see `instanceLabelPart`). */
  readonly labelPrefix: string;
}

type LocalHsmHsm = Pick<Hsm, 'generateKey' | 'importKey' | 'destroyKey' | 'encrypt' | 'decrypt'>;

const STATE = { provider: 'local-hsm', v: 1 } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A local HSM, single tenant, the fastest path: every root key version is a non-extractable token
 * key of its own (VersionMaterial = its label), generated in the HSM or imported; a wrap is one
 * AES-256-GCM call on it. Destroying a version destroys the token key, so it stops working at once.
 */
export class LocalHsmProvider implements KmsProvider {
  readonly kind = 'local-hsm' as const;

  constructor(
    private readonly hsm: LocalHsmHsm,
    private readonly settings: LocalHsmSettings,
  ) {}

  async createInstance(instanceId: string): Promise<InstanceState> {
    requireInstanceId(instanceId);
    return { ...STATE };
  }

  async deleteInstance(context: InstanceContext, versions: readonly VersionMaterial[] = []): Promise<void> {
    requireInstanceId(context.instanceId);
    for (const version of versions) await destroyIfPresent(this.hsm, this.labelOf(context, version));
  }

  async masterKey(context: InstanceContext): Promise<MasterKeyInfo> {
    checkState(context);
    return { status: 'not_applicable' };
  }

  async loadMasterKeyPart(): Promise<never> {
    throw notApplicable();
  }

  async zeroizeMasterKey(): Promise<never> {
    throw notApplicable();
  }

  async createVersion(context: InstanceContext, material?: Buffer): Promise<VersionMaterial> {
    checkState(context);
    if (material) requireKeyMaterial(material);
    const label = `${this.prefixOf(context)}${randomUUID()}`;
    await hsmCall(
      () => (material ? this.hsm.importKey(label, material) : this.hsm.generateKey(label)),
      (error) => new ProviderError('UNAVAILABLE', error.message),
    );
    return label;
  }

  async destroyVersion(context: InstanceContext, version: VersionMaterial): Promise<void> {
    checkState(context);
    await destroyIfPresent(this.hsm, this.labelOf(context, version));
  }

  /** Token key versions: nothing is unwrapped, so nothing is kept. */
  async release(context: InstanceContext): Promise<void> {
    requireInstanceId(context.instanceId);
  }

  async wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer> {
    checkState(context);
    requireDek(dek);
    const label = this.labelOf(context, version);
    return hsmCall(() => this.hsm.encrypt({ label }, dek, wrapAad(this.kind, context.instanceId, aad)), destroyed);
  }

  async unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    checkState(context);
    const label = this.labelOf(context, version);
    requireSealed(wrapped);
    return hsmCall(() => this.hsm.decrypt({ label }, wrapped, wrapAad(this.kind, context.instanceId, aad)), destroyed);
  }

  private prefixOf(context: InstanceContext): string {
    return `${this.settings.labelPrefix}-${instanceLabelPart(context.instanceId)}-`;
  }

  /** A version label of THIS instance (prefix, instance id, then exactly a UUID), or INTEGRITY. */
  private labelOf(context: InstanceContext, version: VersionMaterial): string {
    const prefix = this.prefixOf(context);
    if (typeof version !== 'string' || !version.startsWith(prefix) || !UUID.test(version.slice(prefix.length))) {
      throw new ProviderError('INTEGRITY', 'The root key version does not belong to this instance');
    }
    return version;
  }
}

function checkState(context: InstanceContext): void {
  requireInstanceId(context.instanceId);
  if (context.state['provider'] !== STATE.provider || context.state['v'] !== STATE.v) {
    throw new ProviderError('INTEGRITY', 'The instance state is not a local HSM state');
  }
}

function destroyed(): ProviderError {
  return new ProviderError('INTEGRITY', 'The root key version was destroyed');
}

function notApplicable(): ProviderError {
  return new ProviderError('NOT_APPLICABLE', 'Local HSM instances have no customer master key');
}

/** The local-hsm plugin (one line in registry.ts). */
export const localHsmPlugin = definePlugin({ kind: 'local-hsm', config: LocalHsmProviderConfig, create: (config, { hsm }) => new LocalHsmProvider(hsm, config) });
