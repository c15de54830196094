import { readFileSync } from 'node:fs';
import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { formatSerialNumber, parseAltNames, parseImportedCertificate, type ImportedCertInput } from './certificate.js';

/** Test-only certificates and keys (see fixtures/README.md). */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const rsa = { certificate: fixture('test-only-rsa2048.cert.pem'), key: fixture('test-only-rsa2048.key.pem') };
const ec = { certificate: fixture('test-only-ec256.cert.pem'), key: fixture('test-only-ec256.key.pem') };
const leaf = { certificate: fixture('test-only-leaf.cert.pem'), key: fixture('test-only-leaf.key.pem') };
const ca = fixture('test-only-ca.cert.pem');

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function refusal(input: ImportedCertInput): { field: string; message: string } {
  try {
    parseImportedCertificate(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe('VALIDATION_FAILED');
    expect(domainError.fields).toHaveLength(1);
    const [issue] = domainError.fields ?? [];
    return { field: issue?.field ?? '', message: issue?.message ?? '' };
  }
  throw new Error('expected VALIDATION_FAILED');
}

/** A PEM whose base64 body was damaged in the middle (still framed as a certificate). */
function corrupt(pem: string): string {
  const lines = pem.trim().split('\n');
  const middle = Math.floor(lines.length / 2);
  lines[middle] = 'A'.repeat(lines[middle]?.length ?? 64);
  return `${lines.join('\n')}\n`;
}

describe('parseImportedCertificate', () => {
  it('reads an RSA 2048 certificate with its private key', () => {
    const details = parseImportedCertificate({ certificate: rsa.certificate, private_key: rsa.key });
    expect(details).toMatchObject({
      common_name: 'rsa.test.sealbox.example',
      issuer: 'rsa.test.sealbox.example',
      serial_number: '47:75:ec:4e:64:ac:bc:c7:b1:77:20:84:13:a9:f7:93:78:f8:61:3c',
      alt_names: ['rsa.test.sealbox.example', 'www.rsa.test.sealbox.example', '127.0.0.1'],
      key_algorithm: 'RSA2048',
      intermediate_included: false,
      private_key_included: true,
    });
    expect(details.validity).toEqual({ not_before: '2026-11-29T02:01:01.000Z', not_after: '2126-11-05T02:01:01.000Z' });
    expect(details.expiration_date).toBe(details.validity.not_after);
  });

  it('reads an EC P-256 certificate without a key or alternative names', () => {
    const details = parseImportedCertificate({ certificate: ec.certificate });
    expect(details.common_name).toBe('ec.test.sealbox.example');
    expect(details.key_algorithm).toBe('EC256');
    expect(details.alt_names).toEqual([]);
    expect(details.private_key_included).toBe(false);
    expect(details.intermediate_included).toBe(false);
    expect(details.validity.not_before).toMatch(ISO);
    expect(details.serial_number).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
  });

  it('accepts the intermediate that issued the certificate and reports its CN as the issuer', () => {
    const details = parseImportedCertificate({ certificate: leaf.certificate, intermediate: ca, private_key: leaf.key });
    expect(details).toMatchObject({
      common_name: 'leaf.test.sealbox.example',
      issuer: 'Sealbox Test Intermediate CA',
      alt_names: ['leaf.test.sealbox.example'],
      key_algorithm: 'EC256',
      intermediate_included: true,
      private_key_included: true,
    });
  });

  it('treats empty intermediate and private key as absent', () => {
    const details = parseImportedCertificate({ certificate: ec.certificate, intermediate: '', private_key: '  ' });
    expect(details.intermediate_included).toBe(false);
    expect(details.private_key_included).toBe(false);
  });

  it.each([
    ['not PEM at all', 'hello'],
    ['a damaged body', corrupt(rsa.certificate)],
    ['an empty block', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'],
    ['two certificates', rsa.certificate + ec.certificate],
    ['text around the block', `${rsa.certificate}trailing`],
    ['a private key', rsa.key],
  ])('refuses a certificate that is %s (field certificate)', (_what, certificate) => {
    expect(refusal({ certificate }).field).toBe('certificate');
  });

  it('refuses a private key of another certificate (field private_key)', () => {
    expect(refusal({ certificate: rsa.certificate, private_key: ec.key })).toEqual({
      field: 'private_key',
      message: "does not match the certificate's public key",
    });
    expect(refusal({ certificate: leaf.certificate, intermediate: ca, private_key: ec.key }).field).toBe('private_key');
  });

  it('refuses a private key that does not parse (field private_key)', () => {
    const damaged = rsa.key.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!');
    expect(refusal({ certificate: rsa.certificate, private_key: damaged }).field).toBe('private_key');
    expect(refusal({ certificate: rsa.certificate, private_key: rsa.certificate }).field).toBe('private_key');
  });

  it.each([
    ['does not parse', corrupt(ca)],
    ['is not PEM', 'intermediate'],
    ['did not issue the certificate', ec.certificate],
    ['is an unrelated self-signed certificate', rsa.certificate],
  ])('refuses an intermediate that %s (field intermediate)', (_what, intermediate) => {
    expect(refusal({ certificate: leaf.certificate, intermediate }).field).toBe('intermediate');
  });

  it('refuses a chain whose second block did not issue the first', () => {
    expect(refusal({ certificate: leaf.certificate, intermediate: ca + ec.certificate })).toEqual({
      field: 'intermediate',
      message: 'block 2 did not issue block 1',
    });
  });
});

describe('formatSerialNumber', () => {
  it('writes lowercase byte pairs joined by colons, padding an odd length', () => {
    expect(formatSerialNumber('4775EC')).toBe('47:75:ec');
    expect(formatSerialNumber('ABC')).toBe('0a:bc');
  });
});

describe('parseAltNames', () => {
  it('reads DNS names, then IP and e-mail addresses, and unquotes JSON-quoted values', () => {
    expect(parseAltNames('DNS:a.example, IP Address:10.0.0.1, email:x@example.com, DNS:"b,c.example", URI:http://u')).toEqual([
      'a.example',
      'b,c.example',
      '10.0.0.1',
      'x@example.com',
    ]);
    expect(parseAltNames(undefined)).toEqual([]);
  });
});
