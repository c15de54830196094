/**
 * A provider plugin as the registry lists it: its kind, the zod schema of its settings (one branch of
 * the `KmsProviderConfig` discriminated union, keyed by `kind`) and how to build its provider. Each
 * plugin file exports one (`keyProtectPlugin`, …); registry.ts lists them and derives every list of
 * kinds from that one line per plugin.
 */
import type { z } from 'zod';
import type { KmsProvider, ProviderDependencies } from './provider.js';

export interface ProviderPlugin<K extends string = string, C extends z.ZodObject = z.ZodObject> {
  readonly kind: K;
  /** The plugin's settings: a strict object whose `kind` is the literal K, every other field defaulted. */
  readonly config: C;
  create(config: z.output<C>, deps: ProviderDependencies): KmsProvider & { readonly kind: K };
}

/** A plugin, with its kind and settings types kept exact for the registry. */
export function definePlugin<const K extends string, C extends z.ZodObject<{ kind: z.ZodLiteral<K> }>>(plugin: ProviderPlugin<K, C>): ProviderPlugin<K, C> {
  return plugin;
}
