/**
 * `imported_cert`: a certificate the client brings (with its intermediate and private key). The
 * certificate is parsed and checked (domain/certificate.ts); its details and expiration come from it.
 */
import { parseImportedCertificate, type ImportedCertDetails, type ImportedCertInput } from '../../domain/certificate.js';
import type { VersionPayload } from '../payload.js';
import { textField } from '../payload.js';
import type { SecretTypeHandler, VersionMade } from './handler.js';

export type CertificateDetails = ImportedCertDetails;

/** The PEM fields of an imported certificate as stored: blank optional fields are left out. */
export function certificatePayload(input: ImportedCertInput): VersionPayload {
  return {
    certificate: input.certificate,
    ...(input.intermediate?.trim() ? { intermediate: input.intermediate } : {}),
    ...(input.private_key?.trim() ? { private_key: input.private_key } : {}),
  };
}

function imported(input: ImportedCertInput): VersionMade {
  const certificate = parseImportedCertificate(input);
  const expirationAt = Date.parse(certificate.expiration_date);
  return {
    payload: certificatePayload(input),
    secretDetails: { ...certificate },
    secretExpirationAt: expirationAt,
    versionDetails: { ...certificate },
    versionExpirationAt: expirationAt,
  };
}

export const importedCert: SecretTypeHandler<'imported_cert'> = {
  type: 'imported_cert',
  async first({ prototype }) {
    return { ...imported(prototype), nextRotationAt: null };
  },
  async next({ prototype }) {
    return imported(prototype as unknown as ImportedCertInput);
  },
  decode(value) {
    const intermediate = textField(value, 'intermediate');
    const privateKey = textField(value, 'private_key');
    return {
      certificate: textField(value, 'certificate') ?? '',
      ...(intermediate === undefined ? {} : { intermediate }),
      ...(privateKey === undefined ? {} : { private_key: privateKey }),
    };
  },
  metadataView(secret) {
    const details = secret.details as unknown as CertificateDetails;
    return { ...details, alt_names: [...details.alt_names] };
  },
  versionView(version) {
    const { intermediate_included: _intermediate, private_key_included: _privateKey, ...details } = version.details as unknown as CertificateDetails;
    return { ...details, alt_names: [...details.alt_names] };
  },
};
