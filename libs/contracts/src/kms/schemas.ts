/**
 * Service-facing KMS wire shapes (over NATS, not HTTP): other services wrap and unwrap data keys,
 * lifecycle creates instances and registrations. The Key Protect HTTP surface has its own subjects.
 */
import { z } from 'zod';
import { bytes, Bytes } from '../bytes.js';

/** Largest data key (bytes) kms wraps for a service; kms answers INVALID_PLAINTEXT beyond its own limit. */
const MAX_SERVICE_DEK_BYTES = 8192;
/** Largest ciphertext (bytes) of a wrapped data key. */
const MAX_SERVICE_CIPHERTEXT_BYTES = 6144;


/** The calling service instance: checked against an IAM authorization policy on every call. */
export const ServiceSource = z.object({
  accountId: z.string().min(1).max(64),
  serviceName: z.string().min(1).max(64),
  serviceInstance: z.string().min(1).max(128),
});
export type ServiceSource = z.infer<typeof ServiceSource>;

/** A root key addressed by its KMS instance (GUID) and key id. */
export const RootKeyRef = z.object({
  instanceId: z.string().min(1).max(128),
  keyId: z.string().min(1).max(128),
  /**
   * The account of the key's KMS instance when it is not the calling source's: the provider account of
   * provider-managed encryption. IAM still decides whether the source may use the key.
   */
  accountId: z.string().min(1).max(64).optional(),
});
export type RootKeyRef = z.infer<typeof RootKeyRef>;

export const ServiceWrapRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  /** The data key. */
  plaintext: bytes(1, MAX_SERVICE_DEK_BYTES),
  aad: z.array(z.string().max(1024)).max(16).default([]),
});
export const ServiceWrapResponse = z.object({ ciphertext: Bytes, keyVersion: z.object({ id: z.string() }) });

export const ServiceUnwrapRequest = z.object({
  source: ServiceSource,
  key: RootKeyRef,
  ciphertext: bytes(1, MAX_SERVICE_CIPHERTEXT_BYTES),
  aad: z.array(z.string().max(1024)).max(16).default([]),
});
export const ServiceUnwrapResponse = z.object({
  plaintext: Bytes,
  keyVersion: z.object({ id: z.string() }),
  /** Present when the ciphertext was made with an older version: the same DEK under the newest one. */
  rewrapped: z.object({ ciphertext: Bytes, keyVersion: z.object({ id: z.string() }) }).optional(),
});

export const ServiceRewrapRequest = ServiceUnwrapRequest;
export const ServiceRewrapResponse = z.object({
  ciphertext: Bytes,
  keyVersion: z.object({ id: z.string() }),
  rewrappedKeyVersion: z.object({ id: z.string() }),
});

export const KmsServiceName = z.enum(['kms', 'hs-crypto']);

export const CreateKmsInstanceRequest = z.object({
  accountId: z.string().min(1).max(64),
  instanceId: z.string().min(1).max(128),
  serviceName: KmsServiceName,
  region: z.string().min(1).max(64),
  /** HPCS key ceremony: how many master key parts are needed (default 2). */
  threshold: z.number().int().min(2).max(8).optional(),
});
export const KmsInstance = z.object({
  accountId: z.string(),
  instanceId: z.string(),
  serviceName: KmsServiceName,
  region: z.string(),
  /** The provider plugin backing the instance: a kind of @sealbox/kms-plugins' registry (`providerKinds`). */
  provider: z.string(),
  masterKeyStatus: z.enum(['not_applicable', 'uninitialized', 'pending', 'active']),
});
export const KmsInstanceRef = z.object({ accountId: z.string().min(1).max(64), instanceId: z.string().min(1).max(128) });

export const RegistrationRequest = z.object({
  accountId: z.string().min(1).max(64),
  key: RootKeyRef,
  /** CRN of the resource whose data the key protects (e.g. a Secrets Manager instance). */
  resourceCrn: z.string().min(1).max(512),
  preventKeyDeletion: z.boolean().default(true),
  description: z.string().max(256).optional(),
});
export const Registration = z.object({
  keyId: z.string(),
  resourceCrn: z.string(),
  preventKeyDeletion: z.boolean(),
  creationDate: z.string(),
});
export const RegistrationRef = z.object({
  accountId: z.string().min(1).max(64),
  key: RootKeyRef,
  resourceCrn: z.string().min(1).max(512),
});
export const Empty = z.object({});

export * from './api.js';
