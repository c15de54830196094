import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { HpcsProvider } from '../hpcs.js';
import {
  ProviderError,
  type InstanceContext,
  type InstanceState,
  type KmsProvider,
  type ProviderErrorCode,
  type VersionMaterial,
} from '../provider.js';

/** What kms does with a state: store it as JSON and read it back. */
export function stored(state: InstanceState): InstanceState {
  const parsed: unknown = JSON.parse(JSON.stringify(state));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('state is not an object');
  return parsed as InstanceState;
}

export function contextOf(instanceId: string, state: InstanceState): InstanceContext {
  return { instanceId, state: stored(state) };
}

export const newInstanceId = (): string => `inst-${randomUUID()}`;

export const MANAGERS = ['iam-ServiceId-manager-a', 'iam-ServiceId-manager-b', 'iam-ServiceId-manager-c'] as const;

/**
 * A usable instance: created, and for hpcs with its key ceremony completed (two random parts from
 * two managers). Returns the context and, for hpcs, the parts (owned by the test).
 */
export async function activeInstance(
  provider: KmsProvider,
  instanceId = newInstanceId(),
): Promise<{ context: InstanceContext; parts: Buffer[] }> {
  let state = await provider.createInstance(instanceId, {});
  const parts: Buffer[] = [];
  if (provider.kind === 'hpcs') {
    for (const identity of MANAGERS.slice(0, 2)) {
      const part = randomBytes(32);
      parts.push(part);
      ({ state } = await provider.loadMasterKeyPart(contextOf(instanceId, state), identity, part));
    }
  }
  return { context: contextOf(instanceId, state), parts };
}

/** Resolves to the ProviderError a promise rejects with, after checking it is one with `code`. */
export async function expectProviderError(promise: Promise<unknown>, code: ProviderErrorCode): Promise<ProviderError> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  expect(outcome.rejected, `expected a ProviderError ${code}`).toBe(true);
  const error = outcome.rejected ? outcome.error : undefined;
  expect(error).toBeInstanceOf(ProviderError);
  expect(error).toMatchObject({ code });
  return error as ProviderError;
}

/** A material string with one character in its middle changed. */
export function tamper(material: string): string {
  const at = Math.floor(material.length / 2);
  const replacement = material[at] === 'A' ? 'B' : 'A';
  return material.slice(0, at) + replacement + material.slice(at + 1);
}

/** Does destroyVersion destroy an HSM object (the version stops working at once)? */
export function versionsAreTokenKeys(provider: KmsProvider): boolean {
  return provider.kind === 'local-hsm';
}

/** The token keys a provider holds for one instance (gone after deleteInstance). */
export function instanceTokenKeys(provider: KmsProvider, instanceId: string, versions: readonly VersionMaterial[]): string[] {
  if (provider instanceof HpcsProvider) return [provider.masterLabel(instanceId)];
  if (provider.kind === 'local-hsm') return [...versions];
  return [];
}

/** The token key label of an HPCS instance's master key. */
export function masterLabelOf(provider: KmsProvider, instanceId: string): string {
  if (!(provider instanceof HpcsProvider)) throw new Error('not an HPCS provider');
  return provider.masterLabel(instanceId);
}

/** The XOR of master key parts (what the HSM holds after a ceremony); the caller zeroes it. */
export function xorParts(parts: readonly Buffer[]): Buffer {
  const result = Buffer.alloc(32);
  for (const part of parts) for (let i = 0; i < 32; i += 1) result[i] ^= part[i];
  return result;
}
