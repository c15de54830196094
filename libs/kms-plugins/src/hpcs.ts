import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Hsm } from '@sealbox/hsm';
import { z } from 'zod';
import {
  decodeBase64,
  encodeFields,
  hsmLabel,
  hsmLabelPrefix,
  instanceLabelPart,
  requireDek,
  requireInstanceId,
  requireKeyMaterial,
  requireSealed,
  wrapAad,
} from './binding.js';
import { destroyIfPresent, forgetBlobs, hsmCall, ProviderTokenKey } from './hsm-errors.js';
import {
  KEY_MATERIAL_BYTES,
  ProviderError,
  type InstanceContext,
  type InstanceState,
  type KmsProvider,
  type MasterKeyInfo,
  type VersionMaterial,
} from './provider.js';
import { definePlugin } from './plugin.js';

export interface HpcsSettings {
  /** Parts needed when createInstance names no threshold. */
  readonly defaultThreshold: number;
  /** Provider token key that seals pending master key parts (created on first use). */
  readonly ceremonyKeyLabel: string;
  /** Instance master keys are token keys `<labelPrefix>-<instance>-mk` (see `instanceLabelPart`). */
  readonly labelPrefix: string;
}

type HpcsHsm = Pick<
  Hsm,
  'hasKey' | 'generateKey' | 'importKey' | 'destroyKey' | 'generateWrappedKey' | 'importWrappedKey' | 'encrypt' | 'decrypt' | 'forget'
>;

export const MIN_THRESHOLD = 2;
export const MAX_THRESHOLD = 8;

/** Settings of the hpcs plugin. */
export const HpcsProviderConfig = z.strictObject({
  kind: z.literal('hpcs'),
  /** Master key parts needed when an instance is created without a threshold. */
  defaultThreshold: z.number().int().min(MIN_THRESHOLD).max(MAX_THRESHOLD).default(2),
  /** Token key sealing pending master key parts until the ceremony completes. */
  ceremonyKeyLabel: hsmLabel.default('hpcs-ceremony'),
  /** Instance master keys are token keys `<labelPrefix>-<instance>-mk`. */
  labelPrefix: hsmLabelPrefix.default('hpcs'),
});

const MAX_IDENTITY_LENGTH = 256;

/** The message of the verification pattern's HMAC. */
export const VERIFICATION_MESSAGE = 'sealbox-hpcs-verification';

/**
 * The verification pattern of a master key: HMAC-SHA256 keyed by the master key over a fixed
 * message, in hex. It identifies the key (key custodians can compute it from their parts and compare)
 * without revealing it.
 */
export function masterKeyVerificationPattern(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update(VERIFICATION_MESSAGE).digest('hex');
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

/**
 * What kms stores for an HPCS instance. Pending parts are SEALED: AES-256-GCM in the HSM under the
 * provider's ceremony key, with AAD = (instance id, ceremony id, identity), so a sealed part cannot
 * move to another instance, another identity or a later ceremony. `ceremony` is a fresh random id
 * per ceremony (new at creation, at activation and at zeroize). No part, and no master key, is ever
 * in clear here.
 */
const HpcsState = z
  .strictObject({
    provider: z.literal('hpcs'),
    v: z.literal(1),
    threshold: z.number().int().min(MIN_THRESHOLD).max(MAX_THRESHOLD),
    ceremony: z.uuid(),
    status: z.enum(['uninitialized', 'pending', 'active']),
    parts: z.array(z.strictObject({ identity: z.string().min(1).max(MAX_IDENTITY_LENGTH), sealed: base64 })).max(MAX_THRESHOLD - 1),
    verificationPattern: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .refine((state) =>
    state.status === 'active'
      ? state.parts.length === 0 && state.verificationPattern !== undefined
      : state.verificationPattern === undefined &&
        (state.status === 'pending') === (state.parts.length > 0) &&
        state.parts.length < state.threshold,
  );
type HpcsState = z.infer<typeof HpcsState>;

const PART_DOMAIN = 'sealbox/kms-provider/hpcs-part/v1';

/**
 * Hyper Protect Crypto Services-like, dedicated, KYOK. Each instance has its own master key, a
 * token key `<prefix>-<instance>-mk`, absent until the key ceremony completes: `threshold`
 * parts of 32 bytes from distinct identities, XORed in memory and imported into the HSM as a
 * non-extractable key; the parts and the XOR are zeroed at once. Before that, every key operation
 * answers NOT_INITIALIZED. Root key versions are blobs wrapped under the instance master key
 * (VersionMaterial = base64), so zeroizing the master key (destroying the token key) shreds every
 * version of the instance at once. Loading the SAME parts again restores the same master key, and
 * the old versions open again: that is what the customer's parts are for.
 */
export class HpcsProvider implements KmsProvider {
  readonly kind = 'hpcs' as const;
  private readonly ceremonyKey: ProviderTokenKey;

  constructor(
    private readonly hsm: HpcsHsm,
    private readonly settings: HpcsSettings,
  ) {
    this.ceremonyKey = new ProviderTokenKey(hsm, settings.ceremonyKeyLabel);
  }

  async createInstance(instanceId: string, options: { threshold?: number }): Promise<InstanceState> {
    requireInstanceId(instanceId);
    const threshold = options.threshold ?? this.settings.defaultThreshold;
    if (!Number.isInteger(threshold) || threshold < MIN_THRESHOLD || threshold > MAX_THRESHOLD) {
      throw new RangeError(`The key ceremony threshold must be an integer from ${MIN_THRESHOLD} to ${MAX_THRESHOLD}`);
    }
    return uninitialized(threshold);
  }

  async deleteInstance(context: InstanceContext): Promise<void> {
    requireInstanceId(context.instanceId);
    // The label comes from the id, not the state: cleanup works even when the state is corrupt.
    await destroyIfPresent(this.hsm, this.masterLabel(context.instanceId));
  }

  async masterKey(context: InstanceContext): Promise<MasterKeyInfo> {
    return infoOf(parseState(context));
  }

  async loadMasterKeyPart(
    context: InstanceContext,
    identity: string,
    part: Buffer,
  ): Promise<{ state: InstanceState; info: MasterKeyInfo }> {
    const state = parseState(context);
    if (state.status === 'active') {
      throw new ProviderError('NOT_APPLICABLE', 'The master key is already loaded: zeroize it before a new ceremony');
    }
    if (typeof identity !== 'string' || identity.length === 0 || identity.length > MAX_IDENTITY_LENGTH) {
      throw new ProviderError('INVALID_PART', `A master key part needs the identity that loads it (1 to ${MAX_IDENTITY_LENGTH} characters)`);
    }
    if (!Buffer.isBuffer(part) || part.length !== KEY_MATERIAL_BYTES) {
      throw new ProviderError('INVALID_PART', `A master key part must be exactly ${KEY_MATERIAL_BYTES} bytes`);
    }
    if (state.parts.some((loaded) => loaded.identity === identity)) {
      throw new ProviderError('DUPLICATE_IDENTITY', 'This identity already loaded a part of this master key');
    }
    await this.ceremonyKey.ensure();
    if (state.parts.length + 1 < state.threshold) {
      const sealed = await this.ceremonyCall(() =>
        this.hsm.encrypt({ label: this.ceremonyKey.label }, part, partAad(context.instanceId, state.ceremony, identity)),
      );
      const next: HpcsState = {
        ...state,
        status: 'pending',
        parts: [...state.parts, { identity, sealed: sealed.toString('base64') }],
      };
      return { state: next, info: infoOf(next) };
    }
    const verificationPattern = await this.activate(context.instanceId, state, part);
    const next: HpcsState = {
      provider: 'hpcs',
      v: 1,
      threshold: state.threshold,
      ceremony: randomUUID(),
      status: 'active',
      parts: [],
      verificationPattern,
    };
    return { state: next, info: infoOf(next) };
  }

  /** Shreds first: a corrupt stored state must not keep a master key alive (its threshold is then the default). */
  async zeroizeMasterKey(context: InstanceContext): Promise<InstanceState> {
    requireInstanceId(context.instanceId);
    await destroyIfPresent(this.hsm, this.masterLabel(context.instanceId));
    const parsed = HpcsState.safeParse(context.state);
    return uninitialized(parsed.success ? parsed.data.threshold : this.settings.defaultThreshold);
  }

  async createVersion(context: InstanceContext, material?: Buffer): Promise<VersionMaterial> {
    const label = this.activeMaster(context);
    if (material) requireKeyMaterial(material);
    const blob = await this.call(() =>
      material ? this.hsm.importWrappedKey(label, material) : this.hsm.generateWrappedKey(label),
    );
    return blob.toString('base64');
  }

  async destroyVersion(context: InstanceContext, version: VersionMaterial): Promise<void> {
    parseState(context);
    const blob = decodeBase64(version, 'root key version');
    // A blob wrapped under the instance master key: kms discarding it is its destruction; the HSM
    // forgets what it kept of it.
    await this.call(() => this.hsm.forget({ wrappedBy: this.masterLabel(context.instanceId), blob }));
  }

  /** The versions' blobs, or everything kept under the instance master key when no versions are named. */
  async release(context: InstanceContext, versions?: readonly VersionMaterial[]): Promise<void> {
    requireInstanceId(context.instanceId);
    const label = this.masterLabel(context.instanceId);
    if (versions === undefined) await this.call(() => this.hsm.forget({ label }));
    else await forgetBlobs(this.hsm, label, versions, (operation) => this.call(operation));
  }

  async wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer> {
    const label = this.activeMaster(context);
    requireDek(dek);
    const blob = decodeBase64(version, 'root key version');
    return this.call(() =>
      this.hsm.encrypt({ wrappedBy: label, blob }, dek, wrapAad(this.kind, context.instanceId, aad)),
    );
  }

  async unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const label = this.activeMaster(context);
    const blob = decodeBase64(version, 'root key version');
    requireSealed(wrapped);
    return this.call(() =>
      this.hsm.decrypt({ wrappedBy: label, blob }, wrapped, wrapAad(this.kind, context.instanceId, aad)),
    );
  }

  masterLabel(instanceId: string): string {
    return `${this.settings.labelPrefix}-${instanceLabelPart(instanceId)}-mk`;
  }

  /**
   * The last part: open the sealed ones, XOR everything in memory, import the result as the
   * instance master key, and zero every clear buffer whatever happens. Returns the verification
   * pattern, computed before the XOR is zeroed.
   */
  private async activate(instanceId: string, state: HpcsState, last: Buffer): Promise<string> {
    const opened: Buffer[] = [];
    const master = Buffer.alloc(KEY_MATERIAL_BYTES);
    try {
      const identities = new Set<string>();
      for (const { identity, sealed } of state.parts) {
        // A state edited to repeat a part would cancel it out of the XOR.
        if (identities.has(identity)) throw new ProviderError('INTEGRITY', 'The pending parts repeat an identity');
        identities.add(identity);
        const blob = decodeBase64(sealed, 'sealed master key part');
        const part = await this.ceremonyCall(() =>
          this.hsm.decrypt({ label: this.ceremonyKey.label }, blob, partAad(instanceId, state.ceremony, identity)),
        );
        opened.push(part);
        if (part.length !== KEY_MATERIAL_BYTES) throw new ProviderError('INTEGRITY', 'A pending part is not 32 bytes');
      }
      for (const part of opened) {
        if (timingSafeEqual(part, last)) {
          throw new ProviderError('INVALID_PART', 'This part equals a part already loaded: they would cancel out');
        }
      }
      for (const part of [...opened, last]) {
        for (let i = 0; i < KEY_MATERIAL_BYTES; i += 1) master[i] ^= part[i];
      }
      if (master.every((byte) => byte === 0)) {
        throw new ProviderError('INVALID_PART', 'The parts cancel out to an all-zero master key');
      }
      const pattern = masterKeyVerificationPattern(master);
      const label = this.masterLabel(instanceId);
      // Not active yet, so a key under this label is the leftover of an interrupted activation.
      await destroyIfPresent(this.hsm, label);
      await hsmCall(
        () => this.hsm.importKey(label, master),
        (error) => new ProviderError('UNAVAILABLE', error.message),
      );
      return pattern;
    } finally {
      master.fill(0);
      for (const part of opened) part.fill(0);
    }
  }

  private activeMaster(context: InstanceContext): string {
    const state = parseState(context);
    if (state.status !== 'active') {
      throw new ProviderError('NOT_INITIALIZED', 'The instance master key is not loaded: complete the key ceremony');
    }
    return this.masterLabel(context.instanceId);
  }

  /** Calls on the instance master key: a missing master key means it was zeroized. */
  private call<T>(operation: () => Promise<T>): Promise<T> {
    return hsmCall(operation, () => new ProviderError('NOT_INITIALIZED', 'The instance master key is not loaded'));
  }

  private ceremonyCall<T>(operation: () => Promise<T>): Promise<T> {
    return hsmCall(operation, () => {
      this.ceremonyKey.forget();
      return new ProviderError('UNAVAILABLE', 'The HSM does not hold the key ceremony key');
    });
  }
}

function partAad(instanceId: string, ceremony: string, identity: string): Buffer {
  return encodeFields([PART_DOMAIN, instanceId, ceremony, identity]);
}

function uninitialized(threshold: number): HpcsState {
  return { provider: 'hpcs', v: 1, threshold, ceremony: randomUUID(), status: 'uninitialized', parts: [] };
}

function parseState(context: InstanceContext): HpcsState {
  requireInstanceId(context.instanceId);
  const parsed = HpcsState.safeParse(context.state);
  if (!parsed.success) throw new ProviderError('INTEGRITY', 'The instance state is not a valid HPCS state');
  return parsed.data;
}

function infoOf(state: HpcsState): MasterKeyInfo {
  if (state.status === 'active') {
    return { status: 'active', threshold: state.threshold, partsLoaded: state.threshold, verificationPattern: state.verificationPattern };
  }
  return { status: state.status, threshold: state.threshold, partsLoaded: state.parts.length };
}

/** The hpcs plugin (one line in registry.ts). */
export const hpcsPlugin = definePlugin({ kind: 'hpcs', config: HpcsProviderConfig, create: (config, { hsm }) => new HpcsProvider(hsm, config) });
