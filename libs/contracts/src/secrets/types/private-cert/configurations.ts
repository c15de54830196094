/**
 * The private_cert engine's configurations (`/api/v2/configurations`): root CAs, intermediate CAs and
 * certificate templates, with IBM's `config_type` names and fields. A CA's private key never appears
 * here: it is sealed by envelope encryption like any secret version.
 */
import { z } from 'zod';
import { DateTime, paginated, SEARCH_MAX_LENGTH } from '../../common.js';
import { queryInt, queryList } from '../../query.js';
import { PemCsr } from './secret.js';
import { CertificateFormat, CertificateTtl, checkKey, CommaList, ConfigurationName, KeyBits, KeyType, MAX_NAMES, NameList, subjectFields } from './fields.js';

export const ConfigurationTypes = [
  'private_cert_configuration_root_ca',
  'private_cert_configuration_intermediate_ca',
  'private_cert_configuration_template',
] as const;
export const ConfigurationType = z.enum(ConfigurationTypes);
export type ConfigurationType = z.infer<typeof ConfigurationType>;

/** The header IBM's SDK sends on get/update/delete/action naming the configuration's type. */
export const CONFIGURATION_TYPE_HEADER = 'x-sm-accept-configuration-type';

/** A CA's status (IBM). */
export const CaStatuses = ['configured', 'signing_required', 'signed_certificate_required', 'expired', 'revoked'] as const;
export const CaStatus = z.enum(CaStatuses);
export type CaStatus = z.infer<typeof CaStatus>;

const caCommon = {
  name: ConfigurationName,
  /** Longest lifetime of a certificate this CA signs (and of its own). */
  max_ttl: CertificateTtl,
  /** How long a CRL is valid (default 72h); it is re-signed before. */
  crl_expiry: CertificateTtl.optional(),
  crl_disable: z.boolean().optional(),
  common_name: z.string().min(1).max(64),
  alt_names: NameList.optional(),
  ip_sans: CommaList.optional(),
  uri_sans: CommaList.optional(),
  /** The CA certificate's own lifetime (default: max_ttl). */
  ttl: CertificateTtl.optional(),
  key_type: KeyType.optional(),
  key_bits: KeyBits.optional(),
  max_path_length: z.number().int().min(-1).max(10).optional(),
  format: CertificateFormat.optional(),
  ...subjectFields,
};

export const RootCaPrototype = z
  .strictObject({ config_type: z.literal('private_cert_configuration_root_ca'), ...caCommon })
  .superRefine(checkKey);
export const SigningMethod = z.enum(['internal', 'external']);
export const IntermediateCaPrototype = z
  .strictObject({
    config_type: z.literal('private_cert_configuration_intermediate_ca'),
    ...caCommon,
    /** `internal`: signed by `issuer`, a CA of this instance; `external`: its CSR is signed elsewhere and set back (set_signed). */
    signing_method: SigningMethod,
    issuer: ConfigurationName.optional(),
  })
  .superRefine((value, ctx) => {
    checkKey(value, ctx);
    if (value.signing_method === 'internal' && value.issuer === undefined) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'is required when signing_method is internal' });
  });

const KeyUsage = z.enum(['DigitalSignature', 'KeyAgreement', 'KeyEncipherment', 'DataEncipherment', 'ContentCommitment', 'CertSign', 'CRLSign', 'EncipherOnly', 'DecipherOnly']);
const ExtKeyUsage = z.enum(['ServerAuth', 'ClientAuth', 'CodeSigning', 'EmailProtection', 'TimeStamping', 'OCSPSigning']);

const templateFields = {
  /** The CA (root or intermediate) that signs the certificates. */
  certificate_authority: ConfigurationName,
  /** Comma-separated secret group ids allowed to use the template (all when absent). */
  allowed_secret_groups: z.string().max(4096).optional(),
  max_ttl: CertificateTtl.optional(),
  ttl: CertificateTtl.optional(),
  allow_localhost: z.boolean().optional(),
  allowed_domains: z.array(z.string().min(1).max(253)).max(MAX_NAMES).optional(),
  allow_bare_domains: z.boolean().optional(),
  allow_subdomains: z.boolean().optional(),
  allow_glob_domains: z.boolean().optional(),
  allow_any_name: z.boolean().optional(),
  enforce_hostnames: z.boolean().optional(),
  allow_ip_sans: z.boolean().optional(),
  allowed_uri_sans: z.array(z.string().min(1).max(512)).max(MAX_NAMES).optional(),
  server_flag: z.boolean().optional(),
  client_flag: z.boolean().optional(),
  code_signing_flag: z.boolean().optional(),
  email_protection_flag: z.boolean().optional(),
  key_type: KeyType.optional(),
  key_bits: KeyBits.optional(),
  key_usage: z.array(KeyUsage).max(9).optional(),
  ext_key_usage: z.array(ExtKeyUsage).max(6).optional(),
  require_cn: z.boolean().optional(),
  ...subjectFields,
};
export const TemplatePrototype = z
  .strictObject({ config_type: z.literal('private_cert_configuration_template'), name: ConfigurationName, ...templateFields })
  .superRefine(checkKey);

/** createConfiguration body. */
export const ConfigurationPrototype = z.discriminatedUnion('config_type', [RootCaPrototype, IntermediateCaPrototype, TemplatePrototype]);
export type ConfigurationPrototype = z.infer<typeof ConfigurationPrototype>;
export type ConfigurationPrototypeInput = z.input<typeof ConfigurationPrototype>;

/** updateConfiguration bodies (merge patch), by type: a CA's limits; a template's rules. */
export const CaPatch = z.strictObject({
  max_ttl: CertificateTtl.optional(),
  crl_expiry: CertificateTtl.optional(),
  crl_disable: z.boolean().optional(),
});
export const TemplatePatch = z
  .strictObject(Object.fromEntries(Object.entries(templateFields).map(([name, field]) => [name, field.optional()])) as { [K in keyof typeof templateFields]: z.ZodOptional<(typeof templateFields)[K]> })
  .superRefine(checkKey);
export const ConfigurationPatches = {
  private_cert_configuration_root_ca: CaPatch,
  private_cert_configuration_intermediate_ca: CaPatch,
  private_cert_configuration_template: TemplatePatch,
} as const satisfies Record<ConfigurationType, z.ZodType>;

/** What a CA holds once it has a certificate (IBM's `data`). */
export const CaData = z.object({
  certificate: z.string().optional(),
  issuing_ca: z.string().optional(),
  ca_chain: z.array(z.string()).optional(),
  /** An external intermediate's CSR, to be signed elsewhere. */
  csr: z.string().optional(),
  expiration: z.number().int().optional(),
});

/**
 * Responses are typed for any configuration IBM defines (a client of this module may talk to IBM's
 * own service, with `iam_credentials_configuration`, `public_cert_configuration_ca_lets_encrypt`…);
 * Sealbox itself answers the private_cert types above.
 */
const configurationCommon = {
  config_type: z.string(),
  name: z.string(),
  secret_type: z.string().optional(),
  created_by: z.string().optional(),
  created_at: DateTime.optional(),
  updated_at: DateTime.optional(),
};
/** A configuration as IBM returns it: its fields, and for a CA its status, expiration and `data`. */
export const Configuration = z.looseObject({
  ...configurationCommon,
  status: z.string().optional(),
  expiration_date: DateTime.optional(),
  serial_number: z.string().optional(),
  issuer: z.string().optional(),
  data: CaData.optional(),
});
export type Configuration = z.infer<typeof Configuration>;
/** A configuration in a list: its metadata only. */
export const ConfigurationMetadata = z.looseObject({ ...configurationCommon, status: z.string().optional(), expiration_date: DateTime.optional() });
export const ConfigurationPaginatedCollection = z.object({ ...paginated, configurations: z.array(ConfigurationMetadata) });
export type ConfigurationPaginatedCollection = z.infer<typeof ConfigurationPaginatedCollection>;

export const ConfigurationSort = z.enum(['config_type', '-config_type', 'name', '-name', 'created_at', '-created_at', 'updated_at', '-updated_at']);
export const LIST_CONFIGURATIONS_DEFAULT_LIMIT = 200;
export const LIST_CONFIGURATIONS_MAX_LIMIT = 1000;
/** Query of listConfigurations. */
export const ListConfigurationsQuery = z.object({
  offset: queryInt.pipe(z.number().min(0)).default(0),
  limit: queryInt.pipe(z.number().min(1).max(LIST_CONFIGURATIONS_MAX_LIMIT)).default(LIST_CONFIGURATIONS_DEFAULT_LIMIT),
  sort: ConfigurationSort.optional(),
  search: z.string().min(1).max(SEARCH_MAX_LENGTH).optional(),
  secret_types: queryList(z.enum(['private_cert', 'public_cert', 'iam_credentials', 'custom_credentials']), 4).optional(),
});
export type ListConfigurationsQuery = z.infer<typeof ListConfigurationsQuery>;

// ---------- configuration actions ----------

export const SignIntermediateAction = z.strictObject({
  action_type: z.literal('private_cert_configuration_action_sign_intermediate'),
  /** The intermediate CA (of this instance, signing_method internal or external) to sign with this CA. */
  intermediate_certificate_authority: ConfigurationName,
});
export const SignCsrAction = z.strictObject({
  action_type: z.literal('private_cert_configuration_action_sign_csr'),
  csr: PemCsr,
  common_name: z.string().min(1).max(64).optional(),
  alt_names: NameList.optional(),
  ip_sans: CommaList.optional(),
  uri_sans: CommaList.optional(),
  ttl: CertificateTtl.optional(),
  max_path_length: z.number().int().min(-1).max(10).optional(),
  format: CertificateFormat.optional(),
});
export const SetSignedAction = z.strictObject({
  action_type: z.literal('private_cert_configuration_action_set_signed'),
  /** The intermediate's certificate, signed outside (PEM, optionally followed by its chain). */
  certificate: z.string().min(1).max(100 * 1024),
});
export const RotateCrlAction = z.strictObject({ action_type: z.literal('private_cert_configuration_action_rotate_crl') });
export const RevokeCaCertificateAction = z.strictObject({ action_type: z.literal('private_cert_configuration_action_revoke_ca_certificate') });

/** createConfigurationAction body. */
export const ConfigurationActionPrototype = z.discriminatedUnion('action_type', [SignIntermediateAction, SignCsrAction, SetSignedAction, RotateCrlAction, RevokeCaCertificateAction]);
export type ConfigurationActionPrototype = z.infer<typeof ConfigurationActionPrototype>;
export const ConfigurationAction = z.looseObject({
  action_type: z.string(),
  data: CaData.optional(),
  revocation_time_seconds: z.number().int().optional(),
});
export type ConfigurationAction = z.infer<typeof ConfigurationAction>;
