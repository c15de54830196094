import type { Hsm } from '@sealbox/hsm';
import { z } from 'zod';
import { decodeBase64, hsmLabel, requireDek, requireInstanceId, requireKeyMaterial, requireSealed, wrapAad } from './binding.js';
import { forgetBlobs, hsmCall, ProviderTokenKey } from './hsm-errors.js';
import {
  ProviderError,
  type InstanceContext,
  type InstanceState,
  type KmsProvider,
  type MasterKeyInfo,
  type VersionMaterial,
} from './provider.js';
import { definePlugin } from './plugin.js';

/** Settings of the key-protect plugin. */
export const KeyProtectProviderConfig = z.strictObject({
  kind: z.literal('key-protect'),
  /** Token key holding the provider master key that wraps every root key version. */
  masterKeyLabel: hsmLabel.default('kp-master'),
});

export interface KeyProtectSettings {
  /** Token key holding the provider's master key (created on first use). */
  readonly masterKeyLabel: string;
}

type KeyProtectHsm = Pick<Hsm, 'hasKey' | 'generateKey' | 'generateWrappedKey' | 'importWrappedKey' | 'encrypt' | 'decrypt' | 'forget'>;

const STATE = { provider: 'key-protect', v: 1 } as const;

/**
 * Key Protect-like, multi-tenant, BYOK. ONE provider master key lives in the HSM as a token key;
 * every root key version is an AES-256 key generated in the HSM or imported, kept outside it as a
 * blob wrapped under the master key (VersionMaterial = base64 of the blob, stored by kms). A wrap
 * has the HSM unwrap the blob into a session object (which the HSM may keep for later calls) and seal
 * the data key with AES-256-GCM there. Destroying a version is discarding its blob (kms deletes the
 * row) and having the HSM forget what it kept of it.
 */
export class KeyProtectProvider implements KmsProvider {
  readonly kind = 'key-protect' as const;
  private readonly master: ProviderTokenKey;

  constructor(
    private readonly hsm: KeyProtectHsm,
    settings: KeyProtectSettings,
  ) {
    this.master = new ProviderTokenKey(hsm, settings.masterKeyLabel);
  }

  async createInstance(instanceId: string): Promise<InstanceState> {
    requireInstanceId(instanceId);
    await this.master.ensure();
    return { ...STATE };
  }

  async deleteInstance(context: InstanceContext): Promise<void> {
    requireInstanceId(context.instanceId);
    // The instance's versions are blobs in the kms database: deleting them there destroys them.
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
    await this.master.ensure();
    const label = this.master.label;
    const blob = await this.call(() =>
      material ? this.hsm.importWrappedKey(label, material) : this.hsm.generateWrappedKey(label),
    );
    return blob.toString('base64');
  }

  async destroyVersion(context: InstanceContext, version: VersionMaterial): Promise<void> {
    checkState(context);
    const blob = decodeBase64(version, 'root key version');
    await this.call(() => this.hsm.forget({ wrappedBy: this.master.label, blob }));
  }

  /** The versions' blobs are forgotten by the HSM; without versions there is nothing of the instance alone to tell apart. */
  async release(context: InstanceContext, versions: readonly VersionMaterial[] = []): Promise<void> {
    requireInstanceId(context.instanceId);
    await forgetBlobs(this.hsm, this.master.label, versions, (operation) => this.call(operation));
  }

  async wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer> {
    checkState(context);
    requireDek(dek);
    const blob = decodeBase64(version, 'root key version');
    return this.call(() =>
      this.hsm.encrypt({ wrappedBy: this.master.label, blob }, dek, wrapAad(this.kind, context.instanceId, aad)),
    );
  }

  async unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    checkState(context);
    const blob = decodeBase64(version, 'root key version');
    requireSealed(wrapped);
    return this.call(() =>
      this.hsm.decrypt({ wrappedBy: this.master.label, blob }, wrapped, wrapAad(this.kind, context.instanceId, aad)),
    );
  }

  /** The only token key used is the provider master key: missing means the HSM lost or does not hold it. */
  private call<T>(operation: () => Promise<T>): Promise<T> {
    return hsmCall(operation, () => {
      this.master.forget();
      return new ProviderError('UNAVAILABLE', 'The HSM does not hold the Key Protect master key');
    });
  }
}

function checkState(context: InstanceContext): void {
  requireInstanceId(context.instanceId);
  if (context.state['provider'] !== STATE.provider || context.state['v'] !== STATE.v) {
    throw new ProviderError('INTEGRITY', 'The instance state is not a Key Protect state');
  }
}

function notApplicable(): ProviderError {
  return new ProviderError('NOT_APPLICABLE', 'Key Protect instances have no customer master key');
}

/** The key-protect plugin (one line in registry.ts). */
export const keyProtectPlugin = definePlugin({ kind: 'key-protect', config: KeyProtectProviderConfig, create: (config, { hsm }) => new KeyProtectProvider(hsm, config) });
