/** The IBM error body, and the v2 operations Sealbox does not implement (their shapes kept loose). */
import { z } from 'zod';
import { Description } from './common.js';

/** The IBM Cloud error body of every non-2xx answer. */
export const ErrorBody = z.object({
  errors: z
    .array(
      z.object({
        code: z.string(),
        message: z.string(),
        target: z.object({ type: z.enum(['field', 'header', 'parameter']), name: z.string() }).optional(),
      }),
    )
    .min(1),
  status_code: z.number().int(),
  trace: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------- operations Sealbox does not implement (shapes kept loose) ----------
// Version actions, tasks and Event Notifications registrations are part of IBM's v2 surface; the
// client can call them (the server answers NOT_IMPLEMENTED), so only their identifying fields are
// typed. Secret actions and configurations belong to private_cert (types/private-cert).

/** Any action IBM defines on a secret or a version, as a client sends it (Sealbox takes SecretActionPrototype). */
export const AnySecretActionPrototype = z.looseObject({ action_type: z.string() });
export type AnySecretActionPrototype = z.infer<typeof AnySecretActionPrototype>;
/** Any configuration IBM defines, as a client sends it (Sealbox takes ConfigurationPrototype). */
export const AnyConfigurationPrototype = z.looseObject({ config_type: z.string(), name: z.string() });
export type AnyConfigurationPrototype = z.infer<typeof AnyConfigurationPrototype>;
/** Any configuration action IBM defines, as a client sends it (Sealbox takes ConfigurationActionPrototype). */
export const AnyConfigurationActionPrototype = z.looseObject({ action_type: z.string() });
export type AnyConfigurationActionPrototype = z.infer<typeof AnyConfigurationActionPrototype>;

export const SecretTask = z.looseObject({ id: z.string(), status: z.string().optional() });
export type SecretTask = z.infer<typeof SecretTask>;
export const SecretTaskPrototype = z.looseObject({ status: z.string() });
export type SecretTaskPrototype = z.infer<typeof SecretTaskPrototype>;
export const SecretTaskCollection = z.looseObject({ tasks: z.array(SecretTask) });
export type SecretTaskCollection = z.infer<typeof SecretTaskCollection>;

export const NotificationsRegistrationPrototype = z.strictObject({
  event_notifications_instance_crn: z.string().min(9).max(512),
  event_notifications_source_name: z.string().min(2).max(256),
  event_notifications_source_description: Description.optional(),
});
export type NotificationsRegistrationPrototype = z.infer<typeof NotificationsRegistrationPrototype>;
export const NotificationsRegistration = z.object({ event_notifications_instance_crn: z.string() });
export type NotificationsRegistration = z.infer<typeof NotificationsRegistration>;

