/**
 * X.509 for the private_cert engine, on @peculiar/x509 over node:crypto's WebCrypto: key pairs
 * (RSA 2048/4096, EC P-256/P-384), CA and leaf certificates, CSRs and CRLs. No key leaves this file
 * except as PKCS#8 PEM for sealing, and every PKCS#8 buffer it reads or makes is zeroed after use.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto);

const subtle = webcrypto.subtle;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type { CryptoKey };

/** RFC 5280's cRLNumber extension (2.5.29.20): a DER INTEGER. */
const CRL_NUMBER_OID = '2.5.29.20';
function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

export type KeyType = 'rsa' | 'ec';
export interface KeySpec {
  readonly keyType: KeyType;
  readonly keyBits: number;
}

export const DEFAULT_KEY: KeySpec = { keyType: 'rsa', keyBits: 2048 };

function generationAlgorithm(spec: KeySpec): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  if (spec.keyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: spec.keyBits };
  return { name: 'ECDSA', namedCurve: spec.keyBits === 384 ? 'P-384' : 'P-256' };
}

/** The algorithm a key signs with: RSA PKCS#1 v1.5 / SHA-256, ECDSA with SHA-256 (P-256) or SHA-384 (P-384). */
export function signingAlgorithm(spec: KeySpec): webcrypto.Algorithm & { hash: string } {
  if (spec.keyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return { name: 'ECDSA', hash: spec.keyBits === 384 ? 'SHA-384' : 'SHA-256' };
}

/** IBM's name of a key: `RSA2048`, `RSA4096`, `EC256`, `EC384`. */
export function keyAlgorithmName(spec: KeySpec): string {
  return `${spec.keyType.toUpperCase()}${spec.keyBits}`;
}

/** IBM's name of a signature algorithm. */
export function signingAlgorithmName(spec: KeySpec): string {
  return spec.keyType === 'rsa' ? 'SHA256-RSA' : spec.keyBits === 384 ? 'ECDSA-SHA384' : 'ECDSA-SHA256';
}

export async function generateKeyPair(spec: KeySpec): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(generationAlgorithm(spec), true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A private key as PKCS#8 PEM (what is sealed, or handed to the caller in a version's payload). */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array(await subtle.exportKey('pkcs8', key));
  try {
    return x509.PemConverter.encode(der, 'PRIVATE KEY');
  } finally {
    der.fill(0);
  }
}

/** A signing key from PKCS#8 PEM (non-extractable once imported). The decoded bytes are zeroed. */
export async function importPrivateKey(pem: string, spec: KeySpec): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error('Not a PEM private key');
  const bytes = new Uint8Array(der);
  try {
    const algorithm = spec.keyType === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: spec.keyBits === 384 ? 'P-384' : 'P-256' };
    return await subtle.importKey('pkcs8', bytes, algorithm, false, ['sign']);
  } finally {
    bytes.fill(0);
  }
}

/** A random positive 128-bit serial number, in hex. */
export function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** `4b:f3:…`: how IBM shows a serial number. */
export function displaySerial(hex: string): string {
  return (hex.length % 2 ? `0${hex}` : hex).toLowerCase().match(/../g)?.join(':') ?? hex;
}

/** The subject's distinguished name from a common name and IBM's optional subject lists. */
export interface SubjectFields {
  readonly common_name: string;
  readonly ou?: readonly string[] | undefined;
  readonly organization?: readonly string[] | undefined;
  readonly country?: readonly string[] | undefined;
  readonly locality?: readonly string[] | undefined;
  readonly province?: readonly string[] | undefined;
}

export function subjectName(fields: SubjectFields): x509.JsonName {
  const name: x509.JsonName = [];
  const add = (type: string, values: readonly string[] | undefined) => values?.forEach((value) => name.push({ [type]: [value] }));
  add('C', fields.country);
  add('ST', fields.province);
  add('L', fields.locality);
  add('O', fields.organization);
  add('OU', fields.ou);
  name.push({ CN: [fields.common_name] });
  return name;
}

/** The names a certificate carries in its subjectAltName. */
export interface AltNames {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly uri: readonly string[];
}

function altNameExtension(names: AltNames): x509.SubjectAlternativeNameExtension | undefined {
  const entries: x509.JsonGeneralName[] = [
    ...names.dns.map((value) => ({ type: 'dns' as const, value })),
    ...names.ip.map((value) => ({ type: 'ip' as const, value })),
    ...names.uri.map((value) => ({ type: 'url' as const, value })),
  ];
  return entries.length === 0 ? undefined : new x509.SubjectAlternativeNameExtension(entries);
}

export interface CaCertificateRequest {
  readonly subject: x509.JsonName;
  readonly altNames: AltNames;
  readonly publicKey: CryptoKey | x509.PublicKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly maxPathLength?: number | undefined;
  /** Absent: self-signed with `selfKey`. */
  readonly issuer?: { readonly certificate: x509.X509Certificate; readonly key: CryptoKey; readonly spec: KeySpec } | undefined;
  readonly selfKey?: { readonly key: CryptoKey; readonly spec: KeySpec } | undefined;
  readonly crlUrl?: string | undefined;
}

/** A CA certificate: basicConstraints CA (critical, with the path length), keyCertSign + cRLSign, key identifiers. */
export async function createCaCertificate(request: CaCertificateRequest): Promise<x509.X509Certificate> {
  const signer = request.issuer ?? (request.selfKey && { key: request.selfKey.key, spec: request.selfKey.spec, certificate: undefined });
  if (!signer) throw new Error('A CA certificate needs an issuer or its own key');
  const pathLength = request.maxPathLength === undefined || request.maxPathLength < 0 ? undefined : request.maxPathLength;
  const publicKey = request.publicKey instanceof x509.PublicKey ? await request.publicKey.export() : request.publicKey;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
  if (signer.certificate) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.certificate));
  const alt = altNameExtension(request.altNames);
  if (alt) extensions.push(alt);
  if (request.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([request.crlUrl]));
  return x509.X509CertificateGenerator.create({
    serialNumber: newSerialNumber(),
    subject: request.subject,
    issuer: signer.certificate ? signer.certificate.subjectName : request.subject,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    signingAlgorithm: signingAlgorithm(signer.spec),
    publicKey,
    signingKey: signer.key,
    extensions,
  });
}

export type KeyUsageName = 'DigitalSignature' | 'KeyAgreement' | 'KeyEncipherment' | 'DataEncipherment' | 'ContentCommitment' | 'CertSign' | 'CRLSign' | 'EncipherOnly' | 'DecipherOnly';
export type ExtKeyUsageName = 'ServerAuth' | 'ClientAuth' | 'CodeSigning' | 'EmailProtection' | 'TimeStamping' | 'OCSPSigning';

const KEY_USAGE_FLAGS: Record<KeyUsageName, number> = {
  DigitalSignature: x509.KeyUsageFlags.digitalSignature,
  KeyAgreement: x509.KeyUsageFlags.keyAgreement,
  KeyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  DataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  ContentCommitment: x509.KeyUsageFlags.nonRepudiation,
  CertSign: x509.KeyUsageFlags.keyCertSign,
  CRLSign: x509.KeyUsageFlags.cRLSign,
  EncipherOnly: x509.KeyUsageFlags.encipherOnly,
  DecipherOnly: x509.KeyUsageFlags.decipherOnly,
};
const EXT_KEY_USAGES: Record<ExtKeyUsageName, string> = {
  ServerAuth: x509.ExtendedKeyUsage.serverAuth,
  ClientAuth: x509.ExtendedKeyUsage.clientAuth,
  CodeSigning: x509.ExtendedKeyUsage.codeSigning,
  EmailProtection: x509.ExtendedKeyUsage.emailProtection,
  TimeStamping: x509.ExtendedKeyUsage.timeStamping,
  OCSPSigning: x509.ExtendedKeyUsage.ocspSigning,
};

export interface LeafCertificateRequest {
  readonly subject: x509.JsonName;
  readonly altNames: AltNames;
  readonly publicKey: CryptoKey | x509.PublicKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyUsage: readonly KeyUsageName[];
  readonly extKeyUsage: readonly ExtKeyUsageName[];
  readonly issuer: { readonly certificate: x509.X509Certificate; readonly key: CryptoKey; readonly spec: KeySpec };
  readonly crlUrl?: string | undefined;
}

/** An end-entity certificate: basicConstraints not a CA, the template's key usages, its SANs, key identifiers. */
export async function createLeafCertificate(request: LeafCertificateRequest): Promise<x509.X509Certificate> {
  const publicKey = request.publicKey instanceof x509.PublicKey ? await request.publicKey.export() : request.publicKey;
  const usage = request.keyUsage.reduce((flags, name) => flags | KEY_USAGE_FLAGS[name], 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(request.issuer.certificate),
  ];
  if (usage !== 0) extensions.push(new x509.KeyUsagesExtension(usage, true));
  if (request.extKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(request.extKeyUsage.map((name) => EXT_KEY_USAGES[name])));
  const alt = altNameExtension(request.altNames);
  if (alt) extensions.push(alt);
  if (request.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([request.crlUrl]));
  return x509.X509CertificateGenerator.create({
    serialNumber: newSerialNumber(),
    subject: request.subject,
    issuer: request.issuer.certificate.subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    signingAlgorithm: signingAlgorithm(request.issuer.spec),
    publicKey,
    signingKey: request.issuer.key,
    extensions,
  });
}

/** A CSR for a key (an external intermediate CA's). */
export async function createCsr(subject: x509.JsonName, keys: CryptoKeyPair, spec: KeySpec): Promise<x509.Pkcs10CertificateRequest> {
  return x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: signingAlgorithm(spec) });
}

/** A caller's CSR, parsed and its self-signature checked; undefined when it is not one. */
export async function parseCsr(pem: string): Promise<{ readonly request: x509.Pkcs10CertificateRequest; readonly spec: KeySpec } | undefined> {
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(pem);
    if (!(await request.verify())) return undefined;
  } catch {
    return undefined;
  }
  const spec = keySpecOf(request.publicKey);
  return spec ? { request, spec } : undefined;
}

/** The kind and size of a public key, when it is one this engine signs for. */
export function keySpecOf(publicKey: x509.PublicKey): KeySpec | undefined {
  const algorithm = publicKey.algorithm as { name?: string; modulusLength?: number; namedCurve?: string };
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS' || algorithm.name === 'RSA-OAEP') {
    return algorithm.modulusLength === 2048 || algorithm.modulusLength === 4096 ? { keyType: 'rsa', keyBits: algorithm.modulusLength } : undefined;
  }
  if (algorithm.name === 'ECDSA' || algorithm.name === 'ECDH') {
    if (algorithm.namedCurve === 'P-256') return { keyType: 'ec', keyBits: 256 };
    if (algorithm.namedCurve === 'P-384') return { keyType: 'ec', keyBits: 384 };
  }
  return undefined;
}

export interface CrlEntry {
  readonly serialNumber: string;
  readonly revokedAt: number;
}

/** A CRL signed by a CA: every revoked serial, this and next update, the CRL number. */
export async function createCrl(request: {
  readonly issuer: { readonly certificate: x509.X509Certificate; readonly key: CryptoKey; readonly spec: KeySpec };
  readonly entries: readonly CrlEntry[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly crlNumber: number;
}): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: request.issuer.certificate.subjectName,
    thisUpdate: request.thisUpdate,
    nextUpdate: request.nextUpdate,
    entries: request.entries.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: new Date(entry.revokedAt) })),
    signingAlgorithm: signingAlgorithm(request.issuer.spec),
    signingKey: request.issuer.key,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(request.issuer.certificate), new x509.Extension(CRL_NUMBER_OID, false, derInteger(request.crlNumber))],
  });
}

/** A CRL in PEM with the `X509 CRL` label OpenSSL and most tools expect (the library writes `CRL`). */
export function crlPem(crl: x509.X509Crl): string {
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

export { x509 };
