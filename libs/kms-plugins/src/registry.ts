import { z } from 'zod';
import { hpcsPlugin } from './hpcs.js';
import { keyProtectPlugin } from './key-protect.js';
import { localHsmPlugin } from './local-hsm.js';
import type { ProviderPlugin } from './plugin.js';
import type { KmsProvider, ProviderDependencies } from './provider.js';

/**
 * THE list of provider plugins. Every list of kinds (the kms configuration's choices, the stored
 * instance's provider, the settings union, the conformance suites' loops) is derived from it: a new
 * plugin is its file (provider class, settings schema, `definePlugin`) plus one line here.
 */
export const providerPlugins = [keyProtectPlugin, hpcsPlugin, localHsmPlugin] as const;

type Plugins = typeof providerPlugins;
export type ProviderKind = Plugins[number]['kind'];
/** One field of every plugin, as a tuple in registry order (generic in M so that it maps a tuple to a tuple). */
type FieldOf<M extends readonly unknown[], K extends PropertyKey> = { -readonly [I in keyof M]: M[I] extends { readonly [P in K]: infer V } ? V : never };
/** Every provider kind, in registry order. */
export const providerKinds = providerPlugins.map((plugin) => plugin.kind) as unknown as FieldOf<Plugins, 'kind'>;

/** Settings of one provider plugin: ONE discriminated union on `kind`, from the plugins' own schemas. */
export const KmsProviderConfig = z.discriminatedUnion(
  'kind',
  providerPlugins.map((plugin) => plugin.config) as unknown as FieldOf<Plugins, 'config'>,
);
export type KmsProviderConfig = z.output<typeof KmsProviderConfig>;
export type KmsProviderConfigInput = z.input<typeof KmsProviderConfig>;
export type KmsProviderConfigOf<K extends ProviderKind> = Extract<KmsProviderConfig, { kind: K }>;

const pluginsByKind = new Map<string, ProviderPlugin>(providerPlugins.map((plugin) => [plugin.kind, plugin as unknown as ProviderPlugin]));

/** Whether `kind` names a plugin. */
export function isProviderKind(kind: string): kind is ProviderKind {
  return pluginsByKind.has(kind);
}

/** A provider of `kind` with its default settings, or from a config branch (validated here). */
export function createProvider(config: ProviderKind | KmsProviderConfigInput, deps: ProviderDependencies): KmsProvider {
  const parsed = KmsProviderConfig.parse(typeof config === 'string' ? { kind: config } : config);
  const plugin = pluginsByKind.get(parsed.kind);
  if (!plugin) throw new Error(`No KMS provider "${parsed.kind}"`);
  return plugin.create(parsed, deps);
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
