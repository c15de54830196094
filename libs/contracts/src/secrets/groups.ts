/** Secret groups: prototype, patch, responses. */
import { z } from 'zod';
import { DateTime, Description, SecretGroupName } from './common.js';

export const SecretGroupPrototype = z.strictObject({
  name: SecretGroupName,
  description: Description.optional(),
});
export type SecretGroupPrototype = z.infer<typeof SecretGroupPrototype>;

/** Merge patch: `description: null` removes the description. */
export const SecretGroupPatch = z.strictObject({
  name: SecretGroupName.optional(),
  description: Description.nullable().optional(),
});
export type SecretGroupPatch = z.infer<typeof SecretGroupPatch>;

export const SecretGroup = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  created_at: DateTime,
  created_by: z.string(),
  updated_at: DateTime,
});
export type SecretGroup = z.infer<typeof SecretGroup>;

/** Not paginated (at most 201 groups). */
export const SecretGroupCollection = z.object({
  secret_groups: z.array(SecretGroup),
  total_count: z.number().int().min(0),
});
export type SecretGroupCollection = z.infer<typeof SecretGroupCollection>;

