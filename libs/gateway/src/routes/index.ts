import { ConfigurationsRoutes } from './configurations.routes.js';
import { EventsRoutes } from './events.routes.js';
import { AccountRoutes, IamRoutes, PolicyRoutes, UserRoutes } from './iam.routes.js';
import { kmsRouteProviders, KmsRoutes } from './kms.routes.js';
import { PlanRoutes, ReclamationRoutes } from './reclamations.routes.js';
import { ResourceControllerRoutes } from './resource-controller.routes.js';
import { SecretsManagerRoutes } from './secrets-manager.routes.js';

/** Fixed routing of the HTTP edge; each later capability fills in its surface here. */
export const routeControllers = [IamRoutes, AccountRoutes, UserRoutes, PolicyRoutes, ResourceControllerRoutes, ReclamationRoutes, PlanRoutes, KmsRoutes, SecretsManagerRoutes, ConfigurationsRoutes, EventsRoutes];

/** Providers the routes' access rules use (AccessRefiners). */
export const routeProviders = [...kmsRouteProviders];
