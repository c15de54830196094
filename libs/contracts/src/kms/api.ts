/**
 * User-facing Key Protect v2 wire shapes (`kms.api.*`): what the gateway forwards from
 * `/kms/api/v2/…` and what it sends back, in Key Protect's own JSON (`{metadata, resources}`
 * collections, camelCase fields, ISO dates). Every request names the instance (the `Bluemix-Instance`
 * header) as `instanceId`; key-addressed ones name the key (id or alias) as `id`. The caller travels
 * in the RPC headers. Query strings arrive as text, so numbers, booleans and lists are coerced here.
 *
 * Binary fields (plaintext, ciphertext, payload, nonce, iv, part) are plain strings here: the kms
 * service decodes them and answers a specific error code (INVALID_PLAINTEXT, INVALID_CIPHERTEXT,
 * INVALID_KEY_MATERIAL) rather than a generic VALIDATION_FAILED.
 */
import { z } from 'zod';

export const KEY_COLLECTION_TYPE = 'application/vnd.ibm.kms.key+json';
export const KEY_VERSION_COLLECTION_TYPE = 'application/vnd.ibm.kms.key_version+json';
export const ALIAS_COLLECTION_TYPE = 'application/vnd.ibm.kms.key_alias+json';
export const POLICY_COLLECTION_TYPE = 'application/vnd.ibm.kms.policy+json';
export const REGISTRATION_COLLECTION_TYPE = 'application/vnd.ibm.kms.registration+json';

/** Key states (NIST SP 800-57 numbering, as Key Protect): 0 pre-activation, 1 active, 2 suspended, 3 deactivated, 5 destroyed. */
export const KeyStates = [0, 1, 2, 3, 5] as const;
export type KeyState = (typeof KeyStates)[number];
export const KEY_STATE_ACTIVE = 1;
export const KEY_STATE_SUSPENDED = 2;
export const KEY_STATE_DEACTIVATED = 3;
export const KEY_STATE_DESTROYED = 5;

/** Largest base64 text accepted for a binary field (the service checks the decoded length). */
const MAX_BINARY_TEXT = 8192;
const binaryText = z.string().max(MAX_BINARY_TEXT);

const InstanceId = z.string().min(1).max(128);
/** A key id (UUID) or one of its aliases. */
const KeyIdOrAlias = z.string().min(1).max(128);

const instanceScoped = { instanceId: InstanceId };
const keyAddressed = { instanceId: InstanceId, id: KeyIdOrAlias };

/** `"true"`/`"false"` from a query string, or a boolean. */
const queryBoolean = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
/** `"1,5"` from a query string (the SDKs comma-join arrays), or an array. */
const queryStates = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((item) => (item.trim() === '' ? Number.NaN : Number(item))) : value),
  z
    .array(
      z
        .number()
        .int()
        .refine((state) => (KeyStates as readonly number[]).includes(state), 'must be one of 0, 1, 2, 3, 5'),
    )
    .min(1)
    .max(5),
);
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const offset = z.coerce.number().int().min(0).max(1_000_000).default(0);

/**
 * An alias: 2 to 90 letters, digits, `-` and `_`, not shaped like a UUID (so it never shadows a key
 * id), unique within the instance.
 */
export const KeyAlias = z
  .string()
  .regex(/^[A-Za-z0-9_-]{2,90}$/, 'must be 2 to 90 letters, digits, "-" or "_"')
  .refine((value) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value), 'must not be a UUID');
export const MAX_ALIASES_PER_KEY = 5;

/** Import with an import token (Key Protect "secure import"): see docs/key-management.md, "Import". */
const tokenImportFields = {
  /** The nonce of the import token, AES-256-GCM-encrypted under the key material: `ciphertext || 16-byte tag`, base64. */
  encryptedNonce: binaryText.optional(),
  /** The 12-byte GCM IV used for `encryptedNonce`, base64. */
  iv: binaryText.optional(),
  /** How `payload` was encrypted with the token's public key. */
  encryptionAlgorithm: z.enum(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1']).optional(),
};

export const KeyCreateResource = z.object({
  type: z.literal(KEY_COLLECTION_TYPE).optional(),
  name: z
    .string()
    .min(2)
    .max(90)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'must start with a letter or digit and use letters, digits, spaces, ".", "_" or "-"'),
  description: z.string().max(240).optional(),
  /** false (the default here) = root key (wraps data keys, never leaves the service); true = standard key (its material is returned by getKey). */
  extractable: queryBoolean.default(false),
  /**
   * Imported key material, base64: a root key's 32 bytes (or, with an import token, the RSA-OAEP
   * ciphertext of them); a standard key's 16 to 4096 bytes (import tokens are for root keys only).
   */
  payload: binaryText.optional(),
  ...tokenImportFields,
  expirationDate: z.iso.datetime({ offset: true }).optional(),
  aliases: z.array(KeyAlias).max(MAX_ALIASES_PER_KEY).optional(),
  /** Only the default key ring exists. */
  keyRingID: z.literal('default').optional(),
});

export const CreateKeyRequest = z.object({
  ...instanceScoped,
  metadata: z.object({ collectionType: z.string().optional(), collectionTotal: z.number().optional() }).optional(),
  resources: z.array(KeyCreateResource).length(1, 'exactly one key per request'),
  /** `Prefer: return=representation` (set by the gateway): the answer carries a standard key's `payload`. */
  returnPayload: z.boolean().default(false),
});

export const KeyVersionRef = z.object({ id: z.string(), creationDate: z.string() });

/** A key as Key Protect returns it: key material (`payload`) only for a standard key, from getKey (or create with `Prefer: return=representation`). */
export const Key = z.object({
  type: z.literal(KEY_COLLECTION_TYPE),
  id: z.string(),
  name: z.string(),
  aliases: z.array(z.string()),
  description: z.string().optional(),
  state: z.number().int(),
  crn: z.string(),
  extractable: z.boolean(),
  imported: z.boolean(),
  algorithmType: z.literal('AES'),
  keyRingID: z.string(),
  creationDate: z.string(),
  createdBy: z.string(),
  lastUpdateDate: z.string(),
  lastRotateDate: z.string().optional(),
  keyVersion: KeyVersionRef,
  expirationDate: z.string().optional(),
  /** 1 = deactivated because expired; 2 = disabled by a user (Key Protect reason codes). */
  nonactiveStateReason: z.number().int().optional(),
  dualAuthDelete: z.object({
    enabled: z.boolean(),
    keySetForDeletion: z.boolean().optional(),
    authExpiration: z.string().optional(),
  }),
  rotation: z.object({ enabled: z.boolean(), interval_month: z.number().int().optional() }).optional(),
  deleted: z.boolean(),
  deletionDate: z.string().optional(),
  deletedBy: z.string().optional(),
  restoreAllowed: z.boolean().optional(),
  restoreExpirationDate: z.string().optional(),
  purgeAllowed: z.boolean().optional(),
  purgeAllowedFrom: z.string().optional(),
  purgeScheduledOn: z.string().optional(),
  /** A standard key's material, base64: getKey, and create with `Prefer: return=representation`; never in lists or metadata. */
  payload: z.string().optional(),
});
export type Key = z.infer<typeof Key>;

export const CollectionMetadata = z.object({
  collectionType: z.string(),
  collectionTotal: z.number().int(),
  totalCount: z.number().int().optional(),
});
const collection = <T extends z.ZodType>(item: T) => z.object({ metadata: CollectionMetadata, resources: z.array(item) });

export const KeyCollection = collection(Key);
export type KeyCollection = z.infer<typeof KeyCollection>;

export const ListKeysRequest = z.object({
  ...instanceScoped,
  limit: limit(5000, 200),
  offset,
  /** Default: every state but destroyed (0,1,2,3), as Key Protect. */
  state: queryStates.optional(),
  extractable: queryBoolean.optional(),
});
export const CountKeysRequest = ListKeysRequest.omit({ limit: true, offset: true });
export const KeyCount = z.object({ total: z.number().int() });

export const KeyRequest = z.object(keyAddressed);

export const WrapRequest = z.object({
  ...keyAddressed,
  /** The data key, base64 (1 byte to 4 KiB); absent → a fresh 256-bit key is generated and returned. */
  plaintext: binaryText.optional(),
  aad: z.array(z.string().max(255)).max(255).optional(),
});
export const WrapResponse = z.object({
  ciphertext: z.string(),
  /** Only when the service generated the data key. */
  plaintext: z.string().optional(),
  keyVersion: z.object({ id: z.string() }),
});

export const UnwrapRequest = z.object({
  ...keyAddressed,
  ciphertext: binaryText,
  aad: z.array(z.string().max(255)).max(255).optional(),
});
export const UnwrapResponse = z.object({
  plaintext: z.string(),
  /** The key version the ciphertext was made with. */
  keyVersion: z.object({ id: z.string() }),
  /** When that version is not the newest: the newest, and `ciphertext` is the data key rewrapped under it. */
  rewrappedKeyVersion: z.object({ id: z.string() }).optional(),
  ciphertext: z.string().optional(),
});

export const RewrapRequest = UnwrapRequest;
export const RewrapResponse = z.object({
  ciphertext: z.string(),
  keyVersion: z.object({ id: z.string() }),
  rewrappedKeyVersion: z.object({ id: z.string() }),
});

/** Rotate, and restore: imported keys need their key material again (plain, or with an import token). */
export const KeyMaterialRequest = z.object({ ...keyAddressed, payload: binaryText.optional(), ...tokenImportFields });

export const DeleteKeyRequest = z.object({ ...keyAddressed, force: queryBoolean.default(false) });

export const KeyVersionsRequest = z.object({ ...keyAddressed, limit: limit(5000, 200), offset, totalCount: queryBoolean.optional() });
export const KeyVersionCollection = collection(KeyVersionRef);

export const AliasRequest = z.object({ ...keyAddressed, alias: KeyAlias });
export const KeyAliasResource = z.object({ keyId: z.string(), alias: z.string(), createdBy: z.string(), creationDate: z.string() });
export const AliasCollection = collection(KeyAliasResource);

export const KeyPolicyName = z.enum(['rotation', 'dualAuthDelete']);
export const RotationPolicy = z.object({ enabled: z.boolean().default(true), interval_month: z.number().int().min(1).max(12) });
export const DualAuthDeletePolicy = z.object({ enabled: z.boolean() });
export const KeyPolicyResource = z.object({
  type: z.literal(POLICY_COLLECTION_TYPE).optional(),
  rotation: RotationPolicy.optional(),
  dualAuthDelete: DualAuthDeletePolicy.optional(),
});
export const GetKeyPolicyRequest = z.object({ ...keyAddressed, policy: KeyPolicyName.optional() });
export const PutKeyPolicyRequest = z.object({
  ...keyAddressed,
  policy: KeyPolicyName.optional(),
  metadata: z.object({ collectionType: z.string().optional(), collectionTotal: z.number().optional() }).optional(),
  resources: z.array(KeyPolicyResource).min(1).max(2),
});
export const KeyPolicy = z.object({
  type: z.literal(POLICY_COLLECTION_TYPE),
  id: z.string(),
  crn: z.string(),
  creationDate: z.string(),
  createdBy: z.string(),
  lastUpdateDate: z.string(),
  updatedBy: z.string(),
  rotation: z.object({ enabled: z.boolean(), interval_month: z.number().int() }).optional(),
  dualAuthDelete: z.object({ enabled: z.boolean() }).optional(),
});
export const KeyPolicyCollection = collection(KeyPolicy);

export const ListRegistrationsRequest = z.object({
  ...instanceScoped,
  /** A key id or alias; absent → the registrations of every key of the instance. */
  id: KeyIdOrAlias.optional(),
  limit: limit(5000, 200),
  offset,
  /** A resource CRN, `*` matching any run of characters. */
  urlEncodedResourceCRNQuery: z.string().max(1024).optional(),
  preventKeyDeletion: queryBoolean.optional(),
  totalCount: queryBoolean.optional(),
});
export const KeyRegistration = z.object({
  keyId: z.string(),
  keyName: z.string(),
  resourceCrn: z.string(),
  createdBy: z.string(),
  creationDate: z.string(),
  lastUpdated: z.string(),
  description: z.string().optional(),
  preventKeyDeletion: z.boolean(),
  keyVersion: KeyVersionRef,
});
export const RegistrationCollection = collection(KeyRegistration);

export const CreateImportTokenRequest = z.object({
  ...instanceScoped,
  /** Seconds the token stays usable. */
  expiration: z.number().int().min(300).max(86_400).default(600),
  maxAllowedRetrievals: z.number().int().min(1).max(500).default(1),
});
export const ImportTokenMetadata = z.object({
  creationDate: z.string(),
  expirationDate: z.string(),
  expiration: z.number().int(),
  maxAllowedRetrievals: z.number().int(),
  remainingRetrievals: z.number().int(),
});
export const GetImportTokenRequest = z.object(instanceScoped);
export const ImportToken = ImportTokenMetadata.extend({
  /** The RSA public key (4096 bits), PEM (SPKI), base64. */
  payload: z.string(),
  /** Encrypt this (base64-decoded) with AES-256-GCM under the key material: `encryptedNonce`. */
  nonce: z.string(),
});

export const InstanceRequest = z.object(instanceScoped);
export const LoadMasterKeyPartRequest = z.object({
  ...instanceScoped,
  /** One master key part: 32 random bytes, base64. */
  part: binaryText,
});
export const MasterKeyStatus = z.object({
  status: z.enum(['not_applicable', 'uninitialized', 'pending', 'active']),
  partsLoaded: z.number().int().optional(),
  threshold: z.number().int().optional(),
  /** Identifies the active master key (a keyed hash), never the key. */
  verificationPattern: z.string().optional(),
});

export type KeyPolicy = z.infer<typeof KeyPolicy>;
export type KeyRegistration = z.infer<typeof KeyRegistration>;
export type MasterKeyStatus = z.infer<typeof MasterKeyStatus>;
export type ImportToken = z.infer<typeof ImportToken>;
export type ImportTokenMetadata = z.infer<typeof ImportTokenMetadata>;
export type KeyCount = z.infer<typeof KeyCount>;
export type WrapResponse = z.infer<typeof WrapResponse>;
export type UnwrapResponse = z.infer<typeof UnwrapResponse>;
export type RewrapResponse = z.infer<typeof RewrapResponse>;
export type KeyVersionCollection = z.infer<typeof KeyVersionCollection>;
export type AliasCollection = z.infer<typeof AliasCollection>;
export type KeyPolicyCollection = z.infer<typeof KeyPolicyCollection>;
export type RegistrationCollection = z.infer<typeof RegistrationCollection>;
