/**
 * One entry per secret type: its label, the fields of its create form, how those become the body of
 * createSecret and of createSecretVersion. Every list of types in the console comes from here; a new
 * type is one more entry (the compiler asks for every field).
 */
import type { SecretsWire } from '@sealbox/contracts';

export type SecretType = SecretsWire.SecretType;

/** The values of a type's form fields, by field name. */
export type FormValues = Readonly<Record<string, string | boolean>>;

export interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly kind: 'text' | 'secret' | 'textarea' | 'checkbox' | 'datetime' | 'number' | 'service-id';
  readonly required?: boolean;
  readonly hint?: string;
  /** Shown only when this checkbox field is (un)checked. */
  readonly when?: { readonly field: string; readonly checked: boolean };
  readonly initial?: string | boolean;
}

export interface SecretTypeSpec {
  readonly label: string;
  /** The fields of the secret (and of its versions) that are its value: what "Reveal" shows, never shown otherwise. */
  readonly valueFields: readonly string[];
  readonly fields: readonly FieldSpec[];
  /** The type's own part of createSecret's body. */
  readonly body: (values: FormValues) => Record<string, unknown>;
  /** The fields of a new version, and its body. */
  readonly versionFields: readonly FieldSpec[];
  readonly versionBody: (values: FormValues) => Record<string, unknown>;
}

const text = (values: FormValues, name: string): string => {
  const value = values[name];
  return typeof value === 'string' ? value : '';
};
const optional = (name: string, value: string): Record<string, string> => (value.trim() ? { [name]: value } : {});
const isoOf = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);
const expiration = (values: FormValues) => {
  const iso = isoOf(text(values, 'expiration_date'));
  return iso ? { expiration_date: iso } : {};
};

/** A JSON object typed in a textarea; anything else is refused with a message naming the field. */
export function jsonObjectOf(value: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`${label}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${label}: must be a JSON object`);
  return parsed as Record<string, unknown>;
}

const EXPIRATION: FieldSpec = { name: 'expiration_date', label: 'Expiration date (optional)', kind: 'datetime' };
const CERT_FIELDS: readonly FieldSpec[] = [
  { name: 'certificate', label: 'Certificate (PEM)', kind: 'textarea', required: true },
  { name: 'intermediate', label: 'Intermediate certificate (PEM, optional)', kind: 'textarea' },
  { name: 'private_key', label: 'Private key (PEM, optional)', kind: 'textarea', hint: 'Unencrypted PEM (PKCS#8, PKCS#1 or SEC1). Stored encrypted; shown again only on Reveal.' },
];
const certBody = (values: FormValues) => ({
  certificate: text(values, 'certificate'),
  ...optional('intermediate', text(values, 'intermediate')),
  ...optional('private_key', text(values, 'private_key')),
});
const PASSWORD_FIELDS: readonly FieldSpec[] = [
  { name: 'generate', label: 'Generate a password', kind: 'checkbox', initial: true },
  { name: 'length', label: 'Length', kind: 'number', initial: '32', when: { field: 'generate', checked: true } },
  { name: 'include_symbols', label: 'Include symbols', kind: 'checkbox', initial: false, when: { field: 'generate', checked: true } },
  { name: 'password', label: 'Password', kind: 'secret', required: true, when: { field: 'generate', checked: false } },
];

export const SECRET_TYPES: Readonly<Record<SecretType, SecretTypeSpec>> = {
  arbitrary: {
    label: 'Arbitrary',
    valueFields: ['payload'],
    fields: [{ name: 'payload', label: 'Payload', kind: 'secret', required: true }, EXPIRATION],
    body: (values) => ({ payload: text(values, 'payload'), ...expiration(values) }),
    versionFields: [{ name: 'payload', label: 'New payload', kind: 'secret', required: true }],
    versionBody: (values) => ({ payload: text(values, 'payload') }),
  },
  username_password: {
    label: 'User credentials',
    valueFields: ['username', 'password'],
    fields: [{ name: 'username', label: 'Username', kind: 'text', required: true }, ...PASSWORD_FIELDS, EXPIRATION],
    body: (values) => ({
      username: text(values, 'username'),
      ...(values['generate']
        ? { password_generation_policy: { length: Number(text(values, 'length') || '32'), include_digits: true, include_uppercase: true, include_symbols: values['include_symbols'] === true } }
        : { password: text(values, 'password') }),
      ...expiration(values),
    }),
    versionFields: [
      { name: 'generate', label: 'Generate a password (with the secret’s policy)', kind: 'checkbox', initial: true },
      { name: 'password', label: 'New password', kind: 'secret', required: true, when: { field: 'generate', checked: false } },
    ],
    versionBody: (values) => (values['generate'] ? {} : { password: text(values, 'password') }),
  },
  kv: {
    label: 'Key-value',
    valueFields: ['data'],
    fields: [{ name: 'data', label: 'Data (JSON object)', kind: 'textarea', required: true, initial: '{\n  "key": "value"\n}' }],
    body: (values) => ({ data: jsonObjectOf(text(values, 'data'), 'Data') }),
    versionFields: [{ name: 'data', label: 'New data (JSON object)', kind: 'textarea', required: true, initial: '{\n  "key": "value"\n}' }],
    versionBody: (values) => ({ data: jsonObjectOf(text(values, 'data'), 'Data') }),
  },
  imported_cert: {
    label: 'Imported certificate',
    valueFields: ['certificate', 'intermediate', 'private_key'],
    fields: CERT_FIELDS,
    body: certBody,
    versionFields: CERT_FIELDS,
    versionBody: certBody,
  },
  private_cert: {
    label: 'Private certificate',
    valueFields: ['certificate', 'private_key', 'issuing_ca', 'ca_chain'],
    fields: [
      {
        name: 'certificate_template',
        label: 'Certificate template',
        kind: 'text',
        required: true,
        hint: "The name of one of this instance's private_cert_configuration_template configurations.",
      },
      { name: 'common_name', label: 'Common name', kind: 'text', required: true },
      { name: 'alt_names', label: 'Alternative names (optional)', kind: 'text', hint: 'Comma-separated DNS names.' },
      { name: 'ttl', label: 'Time to live (optional)', kind: 'text', hint: "At most the template's maximum; e.g. 720h. The template's default when empty." },
    ],
    body: (values) => {
      const altNames = text(values, 'alt_names')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      return {
        certificate_template: text(values, 'certificate_template'),
        common_name: text(values, 'common_name'),
        ...(altNames.length ? { alt_names: altNames } : {}),
        ...optional('ttl', text(values, 'ttl')),
      };
    },
    // A new version re-issues the certificate from the same template.
    versionFields: [],
    versionBody: () => ({}),
  },
  iam_credentials: {
    label: 'IAM credentials',
    valueFields: ['api_key'],
    fields: [
      { name: 'service_id', label: 'Service ID', kind: 'service-id', required: true, hint: 'Each version is a new API key of this service ID.' },
      { name: 'ttl', label: 'Time to live', kind: 'text', required: true, initial: '1d', hint: 'Seconds or a duration: 90m, 24h, 1d (1 minute to 90 days).' },
      { name: 'reuse_api_key', label: 'Reuse the API key until it is rotated', kind: 'checkbox', initial: true },
    ],
    body: (values) => ({ service_id: text(values, 'service_id'), ttl: text(values, 'ttl'), reuse_api_key: values['reuse_api_key'] === true }),
    versionFields: [],
    versionBody: () => ({}),
  },
};

export const SECRET_TYPE_NAMES = Object.keys(SECRET_TYPES) as SecretType[];

/** Whether a type has a rotation policy (its metadata may carry one). */
export const ROTATABLE: ReadonlySet<SecretType> = new Set(['username_password', 'iam_credentials', 'private_cert']);

export function initialValues(fields: readonly FieldSpec[]): Record<string, string | boolean> {
  return Object.fromEntries(fields.map((field) => [field.name, field.initial ?? (field.kind === 'checkbox' ? false : '')]));
}

/** Whether a field is shown, given the values of the checkboxes it depends on. */
export function visible(field: FieldSpec, values: FormValues): boolean {
  return !field.when || Boolean(values[field.when.field]) === field.when.checked;
}
