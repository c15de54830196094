import { AccountEntity } from './account.entity.js';
import { ApiKeyEntity, apiKeyCreated } from './api-key.entity.js';
import { BootstrapStateEntity } from './bootstrap.entity.js';
import { IdentityEntity } from './identity.entity.js';

export { AccountEntity, ApiKeyEntity, apiKeyCreated, BootstrapStateEntity, IdentityEntity };
export const iamEntities = [AccountEntity, IdentityEntity, ApiKeyEntity, BootstrapStateEntity];
