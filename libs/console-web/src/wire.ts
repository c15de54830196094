/**
 * The API's bodies as the console reads them: the output types of the contracts' zod schemas (type
 * imports only: no schema code is bundled, the server checks every body).
 */
import type { IamWire } from '@sealbox/contracts';
import type { z } from 'zod';

export type Wire<T extends z.ZodType> = z.output<T>;

export type ServiceIdList = Wire<typeof IamWire.ServiceIdList>;
export type ApiKeyList = Wire<typeof IamWire.ApiKeyList>;
export type ApiKey = IamWire.ApiKey;
export type ServiceId = IamWire.ServiceId;
export type Policy = IamWire.Policy;
export type PolicyList = Wire<typeof IamWire.PolicyList>;
export type RoleList = Wire<typeof IamWire.RoleList>;
export type RoleInfo = Wire<typeof IamWire.RoleInfo>;
