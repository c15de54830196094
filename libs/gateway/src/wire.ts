/**
 * The gateway's own HTTP answers (not a service's): health, readiness and the event stream's query.
 * The types are inferred from these schemas, and the OpenAPI document is generated from them.
 */
import { SecretsWire, ServiceNames } from '@sealbox/contracts';
import { z } from 'zod';

/** `GET /healthz`. */
export const Liveness = z.object({ status: z.literal('ok'), version: z.string() });
export type Liveness = z.infer<typeof Liveness>;

export const ServiceReadiness = z.object({
  ok: z.boolean(),
  version: z.string().optional(),
  replica: z.string().optional().describe('The replica that answered (host and pid)'),
  detail: z.string().optional().describe('What failed'),
});
export type ServiceReadiness = z.infer<typeof ServiceReadiness>;

/** `GET /readyz`. */
export const ReadinessReport = z.object({
  status: z.literal('ready'),
  transport: z.string(),
  services: z.record(z.enum(ServiceNames), ServiceReadiness),
});
export type ReadinessReport = z.infer<typeof ReadinessReport>;
/** What anyone may learn from /readyz: ready or not, nothing about what runs. */
export const PublicReadiness = z.object({ status: z.literal('ready') });
export type PublicReadiness = z.infer<typeof PublicReadiness>;
/** /readyz: the report for an administrator, the bare status for everyone else. */
export const Readiness = z.union([ReadinessReport, PublicReadiness]);

const [firstPatch, ...otherPatches] = Object.values(SecretsWire.SecretMetadataPatches);
/** `PATCH /secrets/{id}/metadata`: the merge patch of the secret's type (the secrets service checks which). */
export const SecretMetadataPatch = z.union([firstPatch, ...otherPatches]);

const [firstVersion, ...otherVersions] = Object.values(SecretsWire.SecretVersionPrototypes);
/** `POST /secrets/{secret_id}/versions`: the version prototype of the secret's type (the secrets service checks which). */
export const SecretVersionPrototype = z.union([firstVersion, ...otherVersions]);
