/**
 * What a certificate template allows (pure): which names, IP and URI SANs, for how long, for which
 * secret groups. Every refusal is VALIDATION_FAILED naming the prototype's field and the reason.
 */
import { isIP } from 'node:net';
import { SecretsWire } from '@sealbox/contracts';
import { fieldError } from '../../validation.js';
import type { AltNames } from './x509.js';

export type TemplateSettings = Omit<Extract<SecretsWire.ConfigurationPrototype, { config_type: 'private_cert_configuration_template' }>, 'config_type' | 'name'>;

/** Default lifetime of a certificate when neither the request nor the template names one: 30 days. */
export const DEFAULT_CERTIFICATE_TTL_SECONDS = 30 * 86_400;

/** IBM's comma-separated lists (`ip_sans`, `uri_sans`), trimmed, empty items dropped. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

/** Whether the template allows a DNS name (or the common name). */
export function nameAllowed(template: TemplateSettings, name: string): boolean {
  const lower = name.toLowerCase();
  if (template.allow_any_name) return true;
  if (template.allow_localhost !== false && (lower === 'localhost' || lower === 'localdomain')) return true;
  for (const domain of template.allowed_domains ?? []) {
    const allowed = domain.toLowerCase();
    if (template.allow_glob_domains && allowed.includes('*') && globMatches(allowed, lower)) return true;
    if (template.allow_bare_domains && lower === allowed) return true;
    if (template.allow_subdomains && lower.endsWith(`.${allowed}`)) return true;
  }
  return false;
}

const HOSTNAME = /^(\*\.)?(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The SANs of a certificate request, checked against its template. */
export function allowedAltNames(
  template: TemplateSettings,
  request: { common_name: string; alt_names?: readonly string[] | undefined; ip_sans?: string | undefined; uri_sans?: string | undefined; exclude_cn_from_sans?: boolean | undefined },
): AltNames {
  const enforceHostnames = template.enforce_hostnames !== false;
  const commonNameIsHost = HOSTNAME.test(request.common_name);
  if (template.require_cn !== false && request.common_name.trim() === '') throw fieldError('common_name', 'is required by the template');
  if (!nameAllowed(template, request.common_name)) throw fieldError('common_name', `"${request.common_name}" is not allowed by the certificate template`);
  const dns: string[] = [];
  if (!request.exclude_cn_from_sans && commonNameIsHost) dns.push(request.common_name);
  (request.alt_names ?? []).forEach((name, index) => {
    if (enforceHostnames && !HOSTNAME.test(name)) throw fieldError(`alt_names.${index}`, `"${name}" is not a host name`);
    if (!nameAllowed(template, name)) throw fieldError(`alt_names.${index}`, `"${name}" is not allowed by the certificate template`);
    if (!dns.includes(name)) dns.push(name);
  });
  const ip = commaList(request.ip_sans);
  if (ip.length > 0 && !template.allow_ip_sans) throw fieldError('ip_sans', 'IP SANs are not allowed by the certificate template');
  ip.forEach((address) => {
    if (isIP(address) === 0) throw fieldError('ip_sans', `"${address}" is not an IP address`);
  });
  const uri = commaList(request.uri_sans);
  uri.forEach((value) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw fieldError('uri_sans', `"${value}" is not a URI`);
    }
    if (!(template.allowed_uri_sans ?? []).some((pattern) => globMatches(pattern, parsed.href) || globMatches(pattern, value))) {
      throw fieldError('uri_sans', `"${value}" is not allowed by the certificate template`);
    }
  });
  return { dns, ip, uri };
}

/** A ttl in seconds, from its IBM text. */
export function seconds(ttl: string | undefined): number | undefined {
  return ttl === undefined ? undefined : SecretsWire.ttlSeconds(ttl);
}

/** The lifetime of a new certificate: the request's ttl, else the template's, capped by the template's max_ttl (over it: refused). */
export function certificateTtlSeconds(template: TemplateSettings, requested: string | undefined): number {
  const max = seconds(template.max_ttl);
  const ttl = seconds(requested) ?? seconds(template.ttl) ?? Math.min(DEFAULT_CERTIFICATE_TTL_SECONDS, max ?? DEFAULT_CERTIFICATE_TTL_SECONDS);
  if (max !== undefined && ttl > max) throw fieldError('ttl', `must be at most the certificate template's max_ttl (${template.max_ttl})`);
  return ttl;
}

/** Whether the template may issue into a secret group (`allowed_secret_groups`: comma-separated ids; absent: all). */
export function checkSecretGroup(template: TemplateSettings, groupId: string, templateName: string): void {
  const allowed = commaList(template.allowed_secret_groups);
  if (allowed.length > 0 && !allowed.includes(groupId)) throw fieldError('secret_group_id', `secret group ${groupId} may not use certificate template ${templateName}`);
}

/** The key usages of a certificate from its template (IBM's defaults: DigitalSignature, KeyAgreement, KeyEncipherment; ServerAuth + ClientAuth). */
export function usagesOf(template: TemplateSettings) {
  const keyUsage = template.key_usage ?? ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'];
  const flags: ('ServerAuth' | 'ClientAuth' | 'CodeSigning' | 'EmailProtection')[] = [];
  if (template.server_flag !== false) flags.push('ServerAuth');
  if (template.client_flag !== false) flags.push('ClientAuth');
  if (template.code_signing_flag) flags.push('CodeSigning');
  if (template.email_protection_flag) flags.push('EmailProtection');
  const extKeyUsage = [...new Set([...flags, ...(template.ext_key_usage ?? [])])];
  return { keyUsage, extKeyUsage };
}
