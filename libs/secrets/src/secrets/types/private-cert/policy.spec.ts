import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { allowedAltNames, certificateTtlSeconds, checkSecretGroup, commaList, nameAllowed, usagesOf, type TemplateSettings } from './policy.js';

const template = (overrides: Partial<TemplateSettings> = {}): TemplateSettings => ({ certificate_authority: 'root', ...overrides });

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    return (error as DomainError).fields?.[0]?.field;
  }
  return undefined;
}

describe('nameAllowed', () => {
  it('allows bare domains, subdomains and globs only when the template says so', () => {
    expect(nameAllowed(template({ allowed_domains: ['example.com'] }), 'example.com')).toBe(false);
    expect(nameAllowed(template({ allowed_domains: ['example.com'], allow_bare_domains: true }), 'Example.COM')).toBe(true);
    expect(nameAllowed(template({ allowed_domains: ['example.com'], allow_subdomains: true }), 'a.b.example.com')).toBe(true);
    expect(nameAllowed(template({ allowed_domains: ['example.com'], allow_subdomains: true }), 'badexample.com')).toBe(false);
    expect(nameAllowed(template({ allowed_domains: ['*.svc.local'], allow_glob_domains: true }), 'api.svc.local')).toBe(true);
    expect(nameAllowed(template({ allowed_domains: ['*.svc.local'] }), 'api.svc.local')).toBe(false);
    expect(nameAllowed(template({ allow_any_name: true }), 'whatever')).toBe(true);
    expect(nameAllowed(template(), 'localhost')).toBe(true);
    expect(nameAllowed(template({ allow_localhost: false }), 'localhost')).toBe(false);
  });
});

describe('allowedAltNames', () => {
  const web = template({ allowed_domains: ['example.com'], allow_subdomains: true, allow_ip_sans: true, allowed_uri_sans: ['spiffe://example.com/*'] });

  it('puts the common name first among the DNS names, then the alt names, IPs and URIs', () => {
    expect(allowedAltNames(web, { common_name: 'a.example.com', alt_names: ['b.example.com', 'a.example.com'], ip_sans: '10.0.0.1, ::1', uri_sans: 'spiffe://example.com/x' })).toEqual({
      dns: ['a.example.com', 'b.example.com'],
      ip: ['10.0.0.1', '::1'],
      uri: ['spiffe://example.com/x'],
    });
    expect(allowedAltNames(web, { common_name: 'a.example.com', exclude_cn_from_sans: true }).dns).toEqual([]);
  });

  it('names the field that breaks the template', () => {
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.org' }))).toBe('common_name');
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.com', alt_names: ['ok.example.com', 'x.example.org'] }))).toBe('alt_names.1');
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.com', alt_names: ['not a host'] }))).toBe('alt_names.0');
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.com', ip_sans: '10.0.0.300' }))).toBe('ip_sans');
    expect(fieldOf(() => allowedAltNames(template({ allow_any_name: true }), { common_name: 'x', ip_sans: '10.0.0.1' }))).toBe('ip_sans');
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.com', uri_sans: 'https://example.com/' }))).toBe('uri_sans');
    expect(fieldOf(() => allowedAltNames(web, { common_name: 'a.example.com', uri_sans: 'not a uri' }))).toBe('uri_sans');
  });
});

describe('certificateTtlSeconds', () => {
  it("takes the request's ttl, else the template's, else 30 days within max_ttl", () => {
    expect(certificateTtlSeconds(template({ max_ttl: '720h' }), '24h')).toBe(86_400);
    expect(certificateTtlSeconds(template({ ttl: '2d', max_ttl: '720h' }), undefined)).toBe(2 * 86_400);
    expect(certificateTtlSeconds(template(), undefined)).toBe(30 * 86_400);
    expect(certificateTtlSeconds(template({ max_ttl: '24h' }), undefined)).toBe(86_400);
  });

  it('refuses a ttl over the cap, naming ttl', () => {
    expect(fieldOf(() => certificateTtlSeconds(template({ max_ttl: '720h' }), '721h'))).toBe('ttl');
  });
});

describe('checkSecretGroup and usages', () => {
  it('limits the template to its secret groups when it names some', () => {
    expect(() => checkSecretGroup(template(), 'default', 'web')).not.toThrow();
    expect(() => checkSecretGroup(template({ allowed_secret_groups: 'default,g1' }), 'g1', 'web')).not.toThrow();
    expect(fieldOf(() => checkSecretGroup(template({ allowed_secret_groups: 'g1' }), 'default', 'web'))).toBe('secret_group_id');
  });

  it("defaults to IBM's key usages and server + client auth", () => {
    expect(usagesOf(template())).toEqual({ keyUsage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'], extKeyUsage: ['ServerAuth', 'ClientAuth'] });
    expect(usagesOf(template({ client_flag: false, code_signing_flag: true, key_usage: ['DigitalSignature'] }))).toEqual({ keyUsage: ['DigitalSignature'], extKeyUsage: ['ServerAuth', 'CodeSigning'] });
    expect(commaList(' a, ,b ')).toEqual(['a', 'b']);
  });
});
