/** Service requests over NATS for the private_cert engine: the HTTP bodies wrapped with the instance and path ids. */
import { z } from 'zod';
import { SecretId, Uuid } from '../../common.js';
import { ListConfigurationsQuery, ConfigurationActionPrototype, ConfigurationPrototype, ConfigurationType } from './configurations.js';
import { ConfigurationName } from './fields.js';
import { SecretActionPrototype } from './secret.js';

const JsonObject = z.record(z.string(), z.unknown());

export const CreateConfigurationRequest = z.strictObject({ instanceGuid: Uuid, configuration: ConfigurationPrototype });
export type CreateConfigurationRequest = z.infer<typeof CreateConfigurationRequest>;

/** One configuration; `configType` (the X-Sm-Accept-Configuration-Type header) must match it when given. */
export const ConfigurationRef = z.strictObject({ instanceGuid: Uuid, name: ConfigurationName, configType: ConfigurationType.optional() });
export type ConfigurationRef = z.infer<typeof ConfigurationRef>;

export const ListConfigurationsRequest = z.strictObject({ instanceGuid: Uuid, path: z.string().min(1).max(512), query: ListConfigurationsQuery });
export type ListConfigurationsRequest = z.infer<typeof ListConfigurationsRequest>;

/** updateConfiguration: `patch` is checked against ConfigurationPatches[type of the stored configuration]. */
export const UpdateConfigurationRequest = ConfigurationRef.extend({ patch: JsonObject });
export type UpdateConfigurationRequest = z.infer<typeof UpdateConfigurationRequest>;

export const ConfigurationActionRequest = ConfigurationRef.extend({ action: ConfigurationActionPrototype });
export type ConfigurationActionRequest = z.infer<typeof ConfigurationActionRequest>;

/** The CRL of a CA, in PEM (served publicly: a CRL is signed, public data). */
export const CrlRequest = z.strictObject({ instanceGuid: Uuid, name: ConfigurationName });
export type CrlRequest = z.infer<typeof CrlRequest>;
export const CrlResponse = z.object({ crl: z.string() });
export type CrlResponse = z.infer<typeof CrlResponse>;

export const SecretActionRequest = z.strictObject({ instanceGuid: Uuid, id: SecretId, action: SecretActionPrototype });
export type SecretActionRequest = z.infer<typeof SecretActionRequest>;
