import { DatabaseSettings, HttpSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { GatewayOptions } from './options.js';

const rate = z.coerce.number().min(0);

/** Settings of the HTTP edge shared by apps/gateway and apps/standalone. */
export const EdgeSettings = {
  SEALBOX_RATE_LIMIT_IP_RPS: rate.default(200).describe('Sustained requests per second per client IP (0 = no limit)'),
  SEALBOX_RATE_LIMIT_IP_BURST: rate.default(400).describe('Burst size per client IP'),
  SEALBOX_RATE_LIMIT_IDENTITY_RPS: rate.default(100).describe('Sustained requests per second per authenticated identity (0 = no limit)'),
  SEALBOX_RATE_LIMIT_IDENTITY_BURST: rate.default(200).describe('Burst size per authenticated identity'),
  SEALBOX_DECISION_CACHE_TTL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5000)
    .describe('How long the gateway reuses an authorization decision (policy events clear it at once)'),
  SEALBOX_REVOCATION_RECONCILE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(300_000)
    .default(10_000)
    .describe(
      'How often the gateway reconciles its token revocations with iam, for an event lost on the way (revocation events apply at once; reconnects reconcile too)',
    ),
};

/** Settings of the distributed gateway only (standalone keeps its audit spool in its data directory). */
export const GatewayOnlySettings = {
  SEALBOX_AUDIT_SPOOL_DIR: z
    .string()
    .default('./data/audit-spool')
    .describe(
      'Folder where the gateway keeps audit events until NATS has stored them (a NATS outage or a restart loses none); one folder per gateway process',
    ),
};

/** Configuration of apps/gateway (its database keeps the Idempotency-Keys, shared by every gateway replica). */
export const GatewayAppConfig = z.object({ ...ServiceSettings, ...DatabaseSettings, ...HttpSettings, ...EdgeSettings, ...GatewayOnlySettings });
export type GatewayAppConfig = z.output<typeof GatewayAppConfig>;

export function gatewayOptionsFrom(config: z.output<z.ZodObject<typeof EdgeSettings>>): GatewayOptions {
  return {
    rateLimitPerIp: { perSecond: config.SEALBOX_RATE_LIMIT_IP_RPS, burst: config.SEALBOX_RATE_LIMIT_IP_BURST },
    rateLimitPerIdentity: { perSecond: config.SEALBOX_RATE_LIMIT_IDENTITY_RPS, burst: config.SEALBOX_RATE_LIMIT_IDENTITY_BURST },
    decisionCacheTtlMs: config.SEALBOX_DECISION_CACHE_TTL_MS,
    decisionCacheSize: 10_000,
    revocationReconcileMs: config.SEALBOX_REVOCATION_RECONCILE_MS,
  };
}
