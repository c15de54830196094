import { HttpSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';

/** Configuration of apps/gateway. */
export const GatewayAppConfig = z.object({ ...ServiceSettings, ...HttpSettings });
export type GatewayAppConfig = z.output<typeof GatewayAppConfig>;
