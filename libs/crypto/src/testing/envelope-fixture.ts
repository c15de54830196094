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
  /** The RPC controller's wire conversion over `service`: base64 in and out. */
  readonly wire: EnvelopeWire;
  /** Through the wire conversion: the envelope as base64. */
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
      const sealed = await wire.seal({ source, key, context, plaintext: plaintext.toString('base64'), ...overrides });
      return sealed.envelope;
    },
    async open(envelope, overrides = {}) {
      const opened = await wire.open({ source, key, context, envelope, ...overrides });
      return Buffer.from(opened.plaintext, 'base64');
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
