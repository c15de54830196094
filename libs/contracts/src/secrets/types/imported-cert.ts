/** `imported_cert`: a certificate (with its intermediate and private key) imported by the client. */
import { z } from 'zod';
import { CertificateValidity, DateTime, patchCommon, PemCertificate, PemPrivateKey, prototypeCommon, versionPrototypeCommon } from '../common.js';
import { defineSecretType } from './define.js';

/** The details a certificate's metadata reports (imported_cert, and its versions). */
export const certificateDetails = {
  common_name: z.string().optional(),
  issuer: z.string(),
  serial_number: z.string(),
  validity: CertificateValidity,
  /** validity.not_after. */
  expiration_date: DateTime,
  key_algorithm: z.string().optional(),
  signing_algorithm: z.string().optional(),
  alt_names: z.array(z.string()).optional(),
};

/** `expiration_date` and the certificate details come from the certificate itself. */
export const ImportedCertSecretPrototype = z.strictObject({
  secret_type: z.literal('imported_cert'),
  ...prototypeCommon,
  certificate: PemCertificate,
  intermediate: PemCertificate.optional(),
  private_key: PemPrivateKey.optional(),
});
export const ImportedCertSecretMetadataPatch = z.strictObject(patchCommon);
export const ImportedCertSecretVersionPrototype = z.strictObject({
  ...versionPrototypeCommon,
  certificate: PemCertificate,
  intermediate: PemCertificate.optional(),
  private_key: PemPrivateKey.optional(),
});

export const importedCert = defineSecretType({
  type: 'imported_cert',
  prototype: ImportedCertSecretPrototype,
  metadataPatch: ImportedCertSecretMetadataPatch,
  versionPrototype: ImportedCertSecretVersionPrototype,
  metadataFields: { ...certificateDetails, intermediate_included: z.boolean(), private_key_included: z.boolean() },
  payloadFields: { certificate: z.string(), intermediate: z.string().optional(), private_key: z.string().optional() },
  versionFields: certificateDetails,
});
export const ImportedCertSecretMetadata = importedCert.metadata;
export const ImportedCertSecret = importedCert.secret;
