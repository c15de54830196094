/** The services of the distributed deployment. DO NOT RENAME: they are NATS queue groups and subject prefixes. */
export const ServiceNames = ['iam', 'kms', 'crypto', 'storage', 'secrets', 'lifecycle'] as const;
export type ServiceName = (typeof ServiceNames)[number];

/** Every process, including the HTTP edge and the all-in-one process. */
export const AppNames = ['gateway', ...ServiceNames, 'standalone'] as const;
export type AppName = (typeof AppNames)[number];
