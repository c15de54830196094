import { KmsProviderConfig, type KmsProviderConfigInput, type KmsProviderConfigOf } from './config.js';
import { HpcsProvider } from './hpcs.js';
import { KeyProtectProvider } from './key-protect.js';
import { LocalHsmProvider } from './local-hsm.js';
import type { KmsProvider, ProviderDependencies, ProviderKind } from './provider.js';

/** One plugin: how to build its provider from its (parsed) config branch. */
export interface ProviderPlugin<K extends ProviderKind> {
  readonly kind: K;
  create(config: KmsProviderConfigOf<K>, deps: ProviderDependencies): KmsProvider & { readonly kind: K };
}

type PluginTable = { readonly [K in ProviderKind]: ProviderPlugin<K> };

/** Every provider plugin, by kind. A new plugin adds a branch to `KmsProviderConfig` and a row here. */
export const providerPlugins: PluginTable = {
  'key-protect': { kind: 'key-protect', create: (config, { hsm }) => new KeyProtectProvider(hsm, config) },
  hpcs: { kind: 'hpcs', create: (config, { hsm }) => new HpcsProvider(hsm, config) },
  'local-hsm': { kind: 'local-hsm', create: (config, { hsm }) => new LocalHsmProvider(hsm, config) },
};

export const providerKinds: readonly ProviderKind[] = ['key-protect', 'hpcs', 'local-hsm'];

function build<K extends ProviderKind>(config: KmsProviderConfigOf<K>, deps: ProviderDependencies): KmsProvider {
  const plugin: ProviderPlugin<K> = providerPlugins[config.kind];
  return plugin.create(config, deps);
}

/** A provider of `kind` with its default settings, or from a config branch (validated here). */
export function createProvider(config: ProviderKind | KmsProviderConfigInput, deps: ProviderDependencies): KmsProvider {
  const parsed = KmsProviderConfig.parse(typeof config === 'string' ? { kind: config } : config);
  return build(parsed, deps);
}

/**
 * One provider per kind, shared by every instance of that kind (providers are stateless; the
 * instance comes with each call). Kinds without a config branch get their defaults.
 */
export class ProviderRegistry {
  private readonly providers = new Map<ProviderKind, KmsProvider>();

  constructor(deps: ProviderDependencies, configs: readonly KmsProviderConfigInput[] = []) {
    const byKind = new Map<ProviderKind, KmsProviderConfigInput>();
    for (const config of configs) {
      if (byKind.has(config.kind)) throw new Error(`Two configurations for the KMS provider "${config.kind}"`);
      byKind.set(config.kind, config);
    }
    for (const kind of providerKinds) this.providers.set(kind, createProvider(byKind.get(kind) ?? kind, deps));
  }

  get(kind: ProviderKind): KmsProvider {
    const provider = this.providers.get(kind);
    if (!provider) throw new Error(`No KMS provider "${String(kind)}"`);
    return provider;
  }

  kinds(): ProviderKind[] {
    return [...this.providers.keys()];
  }
}
