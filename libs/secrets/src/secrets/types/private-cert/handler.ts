/**
 * `private_cert`: each version is a certificate issued by the instance's CA from the secret's
 * template (for a key generated here, or the caller's CSR). A new version re-issues it (the rotation
 * policy does so on schedule); `private_cert_action_revoke_certificate` puts the current version's
 * certificate on its CA's CRL. The certificate's notAfter is the secret's expiration date, so the
 * expiry notices of every type cover it.
 */
import type { SecretsWire } from '@sealbox/contracts';
import { conflict } from '@sealbox/platform';
import { textField } from '../../payload.js';
import { NO_ROTATION, nextRotationAt } from '../../rotation.js';
import type { SecretTypeHandler, TypeServices, VersionMade } from '../handler.js';
import type { InstanceEntity } from '../../../registry/entities.js';
import type { IssueRequest, IssuedCertificate, PrivateCertDetails } from './engine.js';

/** The secret's details: the certificate's, the rotation policy, and the request it is re-issued from. */
export interface PrivateCertSecretDetails extends PrivateCertDetails {
  readonly rotation: SecretsWire.RotationPolicy;
  readonly request: IssueRequest;
  readonly revocation_time_seconds?: number;
  readonly revocation_time_rfc3339?: string;
}

function payloadOf(issued: IssuedCertificate) {
  return {
    certificate: issued.certificate,
    ...(issued.private_key === undefined ? {} : { private_key: issued.private_key }),
    issuing_ca: issued.issuing_ca,
    ca_chain: issued.ca_chain,
  };
}

async function issue(services: TypeServices, instance: InstanceEntity, groupId: string, request: IssueRequest, now: number): Promise<Omit<VersionMade, 'secretDetails'> & { issued: IssuedCertificate }> {
  const issued = await services.certificates.issue(instance, groupId, request, now);
  return { issued, payload: payloadOf(issued), versionDetails: { ...issued.details }, versionExpirationAt: issued.notAfter, secretExpirationAt: issued.notAfter };
}

export const privateCert: SecretTypeHandler<'private_cert'> = {
  type: 'private_cert',
  async first({ instance, prototype, now, services }) {
    const request: IssueRequest = {
      certificate_template: prototype.certificate_template,
      common_name: prototype.common_name,
      ...(prototype.alt_names ? { alt_names: prototype.alt_names } : {}),
      ...(prototype.ip_sans ? { ip_sans: prototype.ip_sans } : {}),
      ...(prototype.uri_sans ? { uri_sans: prototype.uri_sans } : {}),
      ...(prototype.exclude_cn_from_sans ? { exclude_cn_from_sans: true } : {}),
      ...(prototype.ttl ? { ttl: prototype.ttl } : {}),
      ...(prototype.csr ? { csr: prototype.csr } : {}),
    };
    const { issued, ...made } = await issue(services, instance, prototype.secret_group_id, request, now);
    const rotation = prototype.rotation ?? NO_ROTATION;
    const details: PrivateCertSecretDetails = { ...issued.details, rotation, request };
    return { ...made, secretDetails: { ...details }, nextRotationAt: nextRotationAt(rotation, now) };
  },
  async next({ instance, secret, prototype, now, services }) {
    const { revocation_time_seconds: _seconds, revocation_time_rfc3339: _rfc3339, ...kept } = secret.details as unknown as PrivateCertSecretDetails;
    const csr = prototype['csr'] as string | undefined;
    const request: IssueRequest = { ...kept.request, ...(csr ? { csr } : {}) };
    const { issued, ...made } = await issue(services, instance, secret.groupId, request, now);
    return { ...made, secretDetails: { ...kept, ...issued.details, request } };
  },
  decode(value) {
    const privateKey = textField(value, 'private_key');
    const chain = value['ca_chain'];
    return {
      certificate: textField(value, 'certificate') ?? '',
      ...(privateKey === undefined ? {} : { private_key: privateKey }),
      issuing_ca: textField(value, 'issuing_ca') ?? '',
      ca_chain: Array.isArray(chain) ? chain.filter((item): item is string => typeof item === 'string') : [],
    };
  },
  metadataView(secret, { nextRotation }) {
    const { request: _request, ...details } = secret.details as unknown as PrivateCertSecretDetails;
    return { ...details, alt_names: [...details.alt_names], ...nextRotation };
  },
  versionView(version) {
    const details = version.details as unknown as PrivateCertDetails;
    return { ...details, alt_names: [...details.alt_names] };
  },
  async action({ instance, secret, current, action, now, services }) {
    if (!current) throw conflict(`Secret ${secret.id} has no current version to revoke`);
    const details = current.details as unknown as PrivateCertDetails;
    const at = await services.certificates.revoke(instance, details.certificate_authority, details.serial_number.replaceAll(':', ''), now);
    const revocation = { revocation_time_seconds: Math.floor(at / 1000), revocation_time_rfc3339: new Date(at).toISOString() };
    return {
      response: { action_type: action.action_type, revocation_time_seconds: revocation.revocation_time_seconds },
      secretDetails: { ...secret.details, ...revocation },
      versionDetails: { ...current.details, ...revocation },
    };
  },
};
