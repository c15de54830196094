/**
 * THE registry of event types published on JetStream (stream `SEALBOX_EVENTS`, subjects `events.>`).
 *
 * DO NOT RENAME: external subscribers bind durable consumers to these subjects. Every event is a
 * CloudEvents 1.0 JSON envelope whose `type` is `com.sealbox.<name>` and whose NATS subject is
 * `events.<name>`. Payloads never carry secret material, DEKs or tokens.
 */
import { z } from 'zod';
import { RevocationKinds, RevocationReasons } from './iam/schemas.js';
import type { AppName } from './services.js';

export const EVENTS_STREAM = 'SEALBOX_EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'events';
export const CLOUDEVENT_TYPE_PREFIX = 'com.sealbox';

export interface EventDefinition<Svc extends AppName = AppName, Data extends z.ZodType = z.ZodType> {
  readonly source: Svc;
  readonly data: Data;
  readonly summary: string;
}

function event<Svc extends AppName, Data extends z.ZodType>(
  source: Svc,
  summary: string,
  data: Data,
): EventDefinition<Svc, Data> {
  return { source, summary, data };
}

const apikeyRef = z.object({ accountId: z.string(), apikeyId: z.string(), iamId: z.string() });
const serviceIdRef = z.object({ accountId: z.string(), serviceId: z.string(), iamId: z.string() });
const policyRef = z.object({ accountId: z.string(), policyId: z.string(), type: z.enum(['access', 'authorization']) });
/** KMS events carry `instanceId` and, for keys, `keyId`: crypto purges its cached data keys by them. */
const kmsInstanceRef = z.object({ accountId: z.string(), instanceId: z.string() });
const kmsKeyRef = kmsInstanceRef.extend({ keyId: z.string() });
const secretsInstanceRef = z.object({ accountId: z.string(), instanceId: z.string() });
const secretsGroupRef = secretsInstanceRef.extend({ groupId: z.string().optional() });
/** Secret events name the secret and its type, never its name's value beyond that, and never any payload. */
const secretRef = secretsInstanceRef.extend({ secretId: z.string(), secretType: z.string(), groupId: z.string() });
const secretVersionRef = secretRef.extend({ versionId: z.string() });
const lifecycleInstanceRef = z.object({ accountId: z.string(), instanceId: z.string(), crn: z.string(), service: z.string(), planId: z.string() });
const kmsRegistrationRef = kmsKeyRef.extend({ resourceCrn: z.string() });

export const EventTypes = {
  'iam.account.created': event(
    'iam',
    'An account and its administrator were created (on first start, or by a platform operator: `createdBy`)',
    z.object({ accountId: z.string(), adminIamId: z.string(), createdBy: z.string().optional() }),
  ),
  'iam.account-settings.updated': event(
    'iam',
    "An account's identity settings changed (who may create API keys)",
    z.object({ accountId: z.string(), updatedBy: z.string(), restrictCreatePlatformApikey: z.string() }),
  ),
  'iam.user.invited': event('iam', 'A user was added to an account (with a first API key)', z.object({ accountId: z.string(), iamId: z.string(), invitedBy: z.string() })),
  'iam.user.removed': event(
    'iam',
    'A user was removed from an account with its API keys and policies; its access tokens are revoked',
    z.object({ accountId: z.string(), iamId: z.string(), removedBy: z.string() }),
  ),
  'iam.apikey.created': event(
    'iam',
    'An API key was created, naming who created it (the key value is never part of the event)',
    z.object({ accountId: z.string(), apikeyId: z.string(), iamId: z.string(), name: z.string(), createdBy: z.string() }),
  ),
  'iam.apikey.updated': event('iam', 'An API key was renamed or its description changed', apikeyRef),
  'iam.apikey.locked': event('iam', 'An API key was locked', apikeyRef),
  'iam.apikey.unlocked': event('iam', 'An API key was unlocked', apikeyRef),
  'iam.apikey.deleted': event('iam', 'An API key was deleted', apikeyRef),
  'iam.serviceid.created': event('iam', 'A service ID was created', serviceIdRef),
  'iam.serviceid.deleted': event('iam', 'A service ID and its API keys were deleted', serviceIdRef),
  'iam.policy.created': event('iam', 'An access or authorization policy was created', policyRef),
  'iam.policy.updated': event('iam', 'A policy was replaced', policyRef),
  'iam.policy.deleted': event('iam', 'A policy was deleted', policyRef),
  'iam.tokens.revoked': event(
    'iam',
    'Access tokens issued from an API key, to an identity or in a refresh chain are refused from now on (gateways apply it at once)',
    z.object({
      accountId: z.string(),
      kind: z.enum(RevocationKinds),
      id: z.string(),
      reason: z.enum(RevocationReasons),
      /** No token issued before the revocation is valid after this time: the entry can be dropped. */
      expiresAt: z.string(),
    }),
  ),
  'iam.signing-key.rotated': event('iam', 'Access tokens are now signed with a new key', z.object({ kid: z.string() })),
  'kms.instance.created': event('kms', 'A key-management instance was created', kmsInstanceRef.extend({ serviceName: z.string(), provider: z.string() })),
  'kms.instance.deleted': event('kms', 'A key-management instance was deleted (it held no keys any more)', kmsInstanceRef),
  'kms.instance.master-key-loaded': event(
    'kms',
    'HPCS key ceremony: the last master key part was loaded and the master key is active (never the key or a part)',
    kmsInstanceRef.extend({ verificationPattern: z.string() }),
  ),
  'kms.instance.master-key-zeroized': event(
    'kms',
    'The master key of an HPCS instance was destroyed: every key of the instance is unusable at once',
    kmsInstanceRef,
  ),
  'kms.key.created': event(
    'kms',
    'A root key was created (generated or imported); never the key material',
    kmsKeyRef.extend({ name: z.string(), imported: z.boolean(), keyVersionId: z.string() }),
  ),
  'kms.key.rotated': event('kms', 'A root key has a new version; older versions still unwrap', kmsKeyRef.extend({ keyVersionId: z.string() })),
  'kms.key.disabled': event('kms', 'A root key was disabled (state 2): wrap and unwrap fail until it is enabled', kmsKeyRef),
  'kms.key.enabled': event('kms', 'A disabled root key was enabled again (state 1)', kmsKeyRef),
  'kms.key.deleted': event('kms', 'A root key was deleted (state 5, restorable for 30 days)', kmsKeyRef.extend({ force: z.boolean() })),
  'kms.key.restored': event('kms', 'A deleted root key was restored (state 1)', kmsKeyRef),
  'kms.key.purged': event('kms', 'A deleted root key was purged: its material and metadata are gone for good', kmsKeyRef),
  'kms.registration.created': event('kms', "A resource's data is now recorded as protected by a root key", kmsRegistrationRef),
  'kms.registration.deleted': event('kms', 'A registration between a resource and a root key was removed', kmsRegistrationRef),
  'secrets.instance.activated': event('secrets', 'A secrets instance was registered with its KMS key and default group', secretsInstanceRef),
  'secrets.instance.state-changed': event(
    'secrets',
    'A secrets instance was enabled or disabled (disabled: every secrets operation answers INSTANCE_NOT_ACTIVE)',
    secretsInstanceRef.extend({ state: z.enum(['active', 'disabled']) }),
  ),
  'secrets.group.created': event('secrets', 'A secret group was created', secretsGroupRef),
  'secrets.group.updated': event('secrets', 'A secret group was renamed or its description changed', secretsGroupRef),
  'secrets.group.deleted': event('secrets', 'An empty secret group was deleted', secretsGroupRef),
  'secrets.secret.created': event('secrets', 'A secret was created with its first version', secretRef),
  'secrets.secret.updated': event('secrets', "A secret's metadata changed", secretRef),
  'secrets.secret.rotated': event('secrets', 'A secret has a new current version (by a client, or by its rotation policy)', secretVersionRef.extend({ auto: z.boolean() })),
  'secrets.secret.deleted': event('secrets', 'A secret was deleted with every version', secretRef),
  'secrets.secret.expiring': event('secrets', 'A secret expires soon (its expiration_date is within the warning period)', secretRef.extend({ expirationDate: z.string() })),
  'secrets.secret.expired': event('secrets', 'A secret reached its expiration_date', secretRef.extend({ expirationDate: z.string() })),
  'secrets.version.created': event('secrets', 'A version of a secret was created', secretVersionRef),
  'secrets.version.data-deleted': event('secrets', "A version's data was deleted (its metadata stays)", secretVersionRef),
  'secrets.lock.created': event('secrets', 'Locks were added to a version', secretVersionRef.extend({ locks: z.array(z.string()) })),
  'secrets.lock.deleted': event('secrets', 'Locks were removed from a version', secretVersionRef.extend({ locks: z.array(z.string()) })),
  'secrets.configuration.created': event('secrets', 'A private_cert configuration (CA or template) was created', secretsInstanceRef.extend({ name: z.string(), configType: z.string() })),
  'secrets.configuration.updated': event('secrets', 'A private_cert configuration changed (settings, its certificate, a revocation and its CRL)', secretsInstanceRef.extend({ name: z.string(), configType: z.string() })),
  'secrets.configuration.deleted': event('secrets', 'A private_cert configuration was deleted', secretsInstanceRef.extend({ name: z.string(), configType: z.string() })),
  'secrets.instance.purged': event('secrets', 'Every row of a secrets instance was removed (permanent delete)', secretsInstanceRef),
  'lifecycle.instance.created': event('lifecycle', 'A resource instance finished provisioning (or failed: see state)', lifecycleInstanceRef.extend({ state: z.string() })),
  'lifecycle.instance.updated': event('lifecycle', 'A resource instance was renamed, re-parameterized, changed plan, locked or unlocked', lifecycleInstanceRef),
  'lifecycle.instance.deleted': event('lifecycle', 'A resource instance was deleted: a reclamation is scheduled, or it was removed at once', lifecycleInstanceRef.extend({ reclamationId: z.string().optional(), targetTime: z.string().optional(), reason: z.enum(['user', 'plan_retired']) })),
  'lifecycle.instance.restored': event('lifecycle', 'A resource instance was restored from reclamation and is active again', lifecycleInstanceRef.extend({ reclamationId: z.string() })),
  'lifecycle.instance.reclaimed': event('lifecycle', 'A resource instance was permanently deleted (the saga outcome)', lifecycleInstanceRef.extend({ reclamationId: z.string().optional(), outcome: z.enum(['succeeded', 'failed']) })),
  'lifecycle.plan.retired': event('lifecycle', 'A plan was retired: its instances went to reclamation', z.object({ planId: z.string(), instances: z.number().int() })),
  'lifecycle.saga.step-failed': event('lifecycle', 'A step of a provisioning or permanent-delete saga failed or is blocked (it is retried)', lifecycleInstanceRef.extend({ saga: z.string(), step: z.string(), reason: z.string() })),
  'audit.request': event(
    'gateway',
    'One HTTP request at the gateway: who, what, on which resource, with what outcome (never a secret or token)',
    z.object({
      iamId: z.string().optional(),
      accountId: z.string().optional(),
      action: z.string().optional(),
      target: z.string().optional(),
      method: z.string(),
      route: z.string(),
      status: z.number().int(),
      outcome: z.enum(['success', 'failure', 'denied']),
      sourceIp: z.string(),
      traceId: z.string(),
    }),
  ),
} as const satisfies Record<string, EventDefinition>;

export type EventTypes = typeof EventTypes;
export type EventName = keyof EventTypes;
export type EventDataOf<E extends EventName> = z.output<EventTypes[E]['data']>;

export const eventSubject = (name: EventName) => `${EVENTS_SUBJECT_PREFIX}.${name}` as const;
export const cloudEventType = (name: EventName) => `${CLOUDEVENT_TYPE_PREFIX}.${name}` as const;

/** CloudEvents 1.0 structured JSON envelope. */
export const CloudEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().optional(),
  time: z.string(),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  /** W3C trace context of the request that caused the event (CloudEvents distributed tracing extension). */
  traceparent: z.string().optional(),
});
export type CloudEvent = z.infer<typeof CloudEvent>;

export function isEventName(value: string): value is EventName {
  return Object.hasOwn(EventTypes, value);
}

/** The HTTP path of the event stream (Server-Sent Events) at the gateway. */
export const EVENT_STREAM_PATH = '/v1/events';

/** Query of `GET /v1/events`. */
export const EventStreamQuery = z.strictObject({
  type: z
    .string()
    .max(1024)
    .optional()
    .describe('Comma-separated prefixes of event types (`secrets.`, `lifecycle.instance.deleted`, with or without `com.sealbox.`); absent: every event'),
});
export type EventStreamQuery = z.infer<typeof EventStreamQuery>;

/** The event names a list of type prefixes (`EventStreamQuery.type`) selects, or the prefixes that select none. */
export function eventTypesMatching(prefixes: string): { readonly names: ReadonlySet<EventName>; readonly unknown: readonly string[] } {
  const names = new Set<EventName>();
  const unknown: string[] = [];
  for (const raw of prefixes.split(',').map((prefix) => prefix.trim()).filter(Boolean)) {
    const prefix = raw.startsWith(`${CLOUDEVENT_TYPE_PREFIX}.`) ? raw.slice(CLOUDEVENT_TYPE_PREFIX.length + 1) : raw;
    const matching = (Object.keys(EventTypes) as EventName[]).filter((name) => name.startsWith(prefix));
    if (matching.length === 0) unknown.push(raw);
    for (const name of matching) names.add(name);
  }
  return { names, unknown };
}
