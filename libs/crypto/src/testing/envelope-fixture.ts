/** Shared setup of the envelope unit tests (test helper; excluded from the build). */
import type { CloudEvent, ErrorCode } from '@sealbox/contracts';
import { DomainError, InProcessEventBus, ManualClock } from '@sealbox/platform';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache, type DekCacheOptions } from '../dek-cache/dek-cache.js';
import { EnvelopeWire, type OpenRequest, type SealRequest } from '../crypto.controller.js';
import { EnvelopeService } from '../envelope/envelope.service.js';
import { RpcKmsKeys } from '../envelope/kms-client.js';
import { FakeKms } from './fake-kms.js';

export const source = { accountId: 'acct-1', serviceName: 'secrets-manager', serviceInstance: 'sm-1' };
export const key = { instanceId: 'kp-1', keyId: 'root-1' };
export const context = {
  instanceCrn: 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:sm-1::',
  secretId: 'secret-1',
  versionId: 'version-1',
};

export interface EnvelopeFixture {
  readonly kms: FakeKms;
  readonly clock: ManualClock;
  readonly events: InProcessEventBus;
  readonly cache: DekCache;
  readonly service: EnvelopeService;
  /** The RPC controller's reshaping over `service`: bytes in and out. */
  readonly wire: EnvelopeWire;
  /** Through the controller: the envelope, as base64 (easy to edit in a test). */
  seal(plaintext: Buffer, overrides?: Partial<SealRequest>): Promise<string>;
  /** Through the wire conversion: the payload as bytes. */
  open(envelope: string, overrides?: Partial<OpenRequest>): Promise<Buffer>;
}

export function envelopeFixture(options: Partial<DekCacheOptions> = {}): EnvelopeFixture {
  const kms = new FakeKms();
  kms.createKey(key.instanceId, key.keyId);
  const clock = new ManualClock();
  const events = new InProcessEventBus();
  const cache = new DekCache({ ...DEFAULT_DEK_CACHE_OPTIONS, ...options }, clock, events);
  const service = new EnvelopeService(new RpcKmsKeys(kms), cache);
  const wire = new EnvelopeWire(service);
  return {
    kms,
    clock,
    events,
    cache,
    service,
    wire,
    async seal(plaintext, overrides = {}) {
      // A copy: the controller zeroes the plaintext it was given, as the transport's decoded one.
      const sealed = await wire.seal({ source, key, context, plaintext: Buffer.from(plaintext), ...overrides });
      return Buffer.from(sealed.envelope).toString('base64');
    },
    async open(envelope, overrides = {}) {
      const opened = await wire.open({ source, key, context, envelope: Buffer.from(envelope, 'base64'), ...overrides });
      return Buffer.from(opened.plaintext);
    },
  };
}

/** The DomainError code a promise rejects with; 'resolved' if it does not, 'not a DomainError' for others. */
export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved' | 'not a DomainError'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not a DomainError';
  }
}

/** The DomainError a promise rejects with (fails the test otherwise). */
export async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw new Error(`expected a DomainError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, the promise resolved');
}

export function cloudEvent(name: string, data: unknown): CloudEvent {
  return {
    specversion: '1.0',
    id: `evt-${name}`,
    source: '/sealbox/test',
    type: `com.sealbox.${name}`,
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
