import { validationFailed } from '@sealbox/platform';

/** The cloud name in every Sealbox CRN. */
export const CRN_PREFIX = 'crn:v1:sealbox:public';

/** A resource instance's CRN: `crn:v1:sealbox:public:<service>:<region>:a/<account>:<guid>::`. */
export function instanceCrn(service: string, region: string, accountId: string, guid: string): string {
  return `${CRN_PREFIX}:${service}:${region}:a/${accountId}:${guid}::`;
}

export interface ParsedCrn {
  readonly cloud: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly serviceInstance: string;
  readonly resourceType: string;
  readonly resource: string;
}

/**
 * The fields of a CRN (`crn:v1:<cloud>:<public|private>:<service>:<location>:a/<account>:<instance>:<type>:<resource>`),
 * or undefined when the text is not one. Any cloud name is accepted (IBM's `bluemix` as well as `sealbox`).
 */
export function parseCrn(text: string): ParsedCrn | undefined {
  const parts = text.split(':');
  if (parts.length !== 10) return undefined;
  const [crn, version, cloud, visibility, service, region, scope, serviceInstance, resourceType, resource] = parts as [
    string, string, string, string, string, string, string, string, string, string,
  ];
  if (crn !== 'crn' || version !== 'v1' || !cloud || !['public', 'private'].includes(visibility)) return undefined;
  if (!service || !scope.startsWith('a/') || scope.length < 3) return undefined;
  return { cloud, service, region, accountId: scope.slice(2), serviceInstance, resourceType, resource };
}

/** Is `id` a CRN (as opposed to a GUID)? Path ids of resource instances may be either. */
export const looksLikeCrn = (id: string) => id.startsWith('crn:');

/** The services whose instances hold root keys. */
export const KEY_SERVICES = ['kms', 'hs-crypto'] as const;
export type KeyService = (typeof KEY_SERVICES)[number];

export interface RootKeyCrn {
  readonly service: KeyService;
  readonly region: string;
  readonly accountId: string;
  readonly instanceId: string;
  readonly keyId: string;
}

/**
 * `parameters.kms_key`: the CRN of a root key of a kms or hs-crypto instance
 * (`crn:v1:<cloud>:public:kms:<region>:a/<account>:<instance>:key:<key id>`). VALIDATION_FAILED naming
 * `parameters.kms_key` otherwise.
 */
export function parseRootKeyCrn(value: unknown): RootKeyCrn {
  const field = 'parameters.kms_key';
  if (typeof value !== 'string') throw validationFailed([{ field, message: 'must be the CRN of a root key (a string)' }]);
  const parsed = parseCrn(value);
  if (!parsed || parsed.resourceType !== 'key' || !parsed.resource || !parsed.serviceInstance || !parsed.region) {
    throw validationFailed([{ field, message: 'must be the CRN of a root key: crn:v1:<cloud>:public:kms:<region>:a/<account>:<instance>:key:<key id>' }]);
  }
  if (!(KEY_SERVICES as readonly string[]).includes(parsed.service)) {
    throw validationFailed([{ field, message: `must name a key of a kms or hs-crypto instance, not of ${parsed.service}` }]);
  }
  return { service: parsed.service as KeyService, region: parsed.region, accountId: parsed.accountId, instanceId: parsed.serviceInstance, keyId: parsed.resource };
}
