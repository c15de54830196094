/**
 * `imported_cert` secrets: what the service reads out of the PEM a client imports.
 *
 * The certificate is parsed with node:crypto `X509Certificate` to fill the metadata IBM reports
 * (common_name, issuer, serial_number, validity, alt_names, key_algorithm, expiration_date); an
 * intermediate must parse and issue the certificate (each block the one before it); a private key
 * must be the certificate's: its public half, exported as SPKI DER, equals the certificate's key.
 * Anything else is VALIDATION_FAILED naming `certificate`, `intermediate` or `private_key`.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { validationFailed } from '@sealbox/platform';

/** What a client imports (the PEM fields of an `imported_cert` prototype or version prototype). */
export interface ImportedCertInput {
  readonly certificate: string;
  readonly intermediate?: string | undefined;
  readonly private_key?: string | undefined;
}

/** The metadata of an imported certificate, with IBM's field names. */
export interface ImportedCertDetails {
  /** The subject's CN, absent when the subject has none. */
  readonly common_name?: string;
  /** The issuer's CN, or the issuer's whole DN (`C=US, O=…`) when it has no CN. */
  readonly issuer: string;
  /** Lowercase hex bytes joined by `:` (`4b:f3:…`), as IBM shows it. */
  readonly serial_number: string;
  readonly validity: { readonly not_before: string; readonly not_after: string };
  /** validity.not_after. */
  readonly expiration_date: string;
  /** DNS names, then IP addresses and e-mail addresses of the subjectAltName extension. */
  readonly alt_names: readonly string[];
  /** IBM's names: `RSA2048`, `RSA4096`, `EC256`, `EC384`, … (`ED25519` for other key types, uppercased). */
  readonly key_algorithm: string;
  readonly intermediate_included: boolean;
  readonly private_key_included: boolean;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function fail(field: string, message: string): never {
  throw validationFailed([{ field, message }]);
}

/** The PEM certificate blocks of `pem`, each parsed; anything outside the blocks but whitespace is refused. */
function parseCertificates(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) fail(field, 'must be a PEM certificate');
  if (pem.replace(PEM_CERTIFICATE, '').trim() !== '') fail(field, 'must hold only PEM certificate blocks');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      return fail(field, blocks.length === 1 ? 'is not a valid X.509 certificate' : `block ${index + 1} is not a valid X.509 certificate`);
    }
  });
}

/** `C=US\nO=Org\nCN=name` → the CN, or undefined. */
function commonNameOf(distinguishedName: string): string | undefined {
  const line = distinguishedName.split('\n').find((entry) => entry.startsWith('CN='));
  return line === undefined ? undefined : unquote(line.slice(3));
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not a JSON string: keep it as it is.
    }
  }
  return value;
}

/** `4775EC4E…` → `47:75:ec:4e:…`. */
export function formatSerialNumber(hex: string): string {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return (even.toLowerCase().match(/../g) ?? []).join(':');
}

/**
 * Entries of Node's `subjectAltName` text (`DNS:a, DNS:b, IP Address:1.2.3.4`), where a value holding a
 * comma or quote is a JSON string (`DNS:"a,b"`).
 */
export function parseAltNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const entries: { kind: string; value: string }[] = [];
  let rest = subjectAltName;
  while (rest.length > 0) {
    const colon = rest.indexOf(':');
    if (colon < 0) break;
    const kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    let value: string;
    if (rest.startsWith('"')) {
      let end = 1;
      while (end < rest.length && rest[end] !== '"') end += rest[end] === '\\' ? 2 : 1;
      value = unquote(rest.slice(0, end + 1));
      rest = rest.slice(end + 1);
    } else {
      const comma = rest.indexOf(', ');
      value = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma);
    }
    if (rest.startsWith(', ')) rest = rest.slice(2);
    entries.push({ kind, value });
  }
  const of = (kind: string) => entries.filter((entry) => entry.kind === kind).map((entry) => entry.value);
  return [...of('DNS'), ...of('IP Address'), ...of('email')];
}

const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, 'P-256': 256, secp384r1: 384, 'P-384': 384, secp521r1: 521, 'P-521': 521 };

/** IBM's key algorithm name of a public key: `RSA2048`, `EC256`, … */
export function keyAlgorithmOf(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if ((type === 'rsa' || type === 'rsa-pss') && details.modulusLength !== undefined) return `RSA${details.modulusLength}`;
  if (type === 'ec' && details.namedCurve !== undefined) {
    const bits = CURVE_BITS[details.namedCurve];
    return bits === undefined ? `EC_${details.namedCurve.toUpperCase()}` : `EC${bits}`;
  }
  return type.toUpperCase();
}

/** Node's `validFrom` text (`Nov 29 02:01:01 2026 GMT`) as RFC 3339. */
function isoDate(text: string, field: string): string {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) fail(field, `has an unreadable validity date "${text}"`);
  return date.toISOString();
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * Check an imported certificate (with its optional intermediate chain and private key) and read its
 * metadata. Throws VALIDATION_FAILED naming `certificate`, `intermediate` or `private_key`.
 */
export function parseImportedCertificate(input: ImportedCertInput): ImportedCertDetails {
  const certificates = parseCertificates(input.certificate, 'certificate');
  if (certificates.length > 1) fail('certificate', 'must be a single certificate (put the chain in intermediate)');
  const [certificate] = certificates as [X509Certificate];

  const intermediate = input.intermediate?.trim() ? input.intermediate : undefined;
  if (intermediate !== undefined) {
    const chain = parseCertificates(intermediate, 'intermediate');
    let child = certificate;
    chain.forEach((issuer, index) => {
      if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
        fail('intermediate', index === 0 ? 'did not issue the certificate' : `block ${index + 1} did not issue block ${index}`);
      }
      child = issuer;
    });
  }

  const privateKey = input.private_key?.trim() ? input.private_key : undefined;
  if (privateKey !== undefined) {
    let publicOfPrivate: KeyObject;
    try {
      publicOfPrivate = createPublicKey(createPrivateKey(privateKey));
    } catch {
      return fail('private_key', 'is not a valid unencrypted PEM private key');
    }
    if (!spki(publicOfPrivate).equals(spki(certificate.publicKey))) fail('private_key', "does not match the certificate's public key");
  }

  const notBefore = isoDate(certificate.validFrom, 'certificate');
  const notAfter = isoDate(certificate.validTo, 'certificate');
  const commonName = commonNameOf(certificate.subject);
  return {
    ...(commonName === undefined ? {} : { common_name: commonName }),
    issuer: commonNameOf(certificate.issuer) ?? certificate.issuer.split('\n').join(', '),
    serial_number: formatSerialNumber(certificate.serialNumber),
    validity: { not_before: notBefore, not_after: notAfter },
    expiration_date: notAfter,
    alt_names: parseAltNames(certificate.subjectAltName),
    key_algorithm: keyAlgorithmOf(certificate.publicKey),
    intermediate_included: intermediate !== undefined,
    private_key_included: privateKey !== undefined,
  };
}
