import type { Logger } from 'pino';
import { DomainError } from '../errors/index.js';
import type { SealKeeper } from './keeper.js';

/**
 * Unseal an auto-unseal (PKCS#11) store from its token at start, with no operator. A store of another
 * kind, or one already open, is left as it is. A failure (no token, no key with the configured
 * label, another key, a refused PIN) leaves it sealed with ONE log line naming the code, which
 * `GET /v1/sys/seal-status` also shows (`auto_unseal_error`); the process keeps serving the sealed
 * endpoints, so fixing the token and sending `POST /v1/sys/unseal {}` (or restarting) unseals it.
 */
export async function autoUnsealAtStart(keeper: SealKeeper, logger: Pick<Logger, 'info' | 'error'>): Promise<boolean> {
  if (!keeper.initialized || !keeper.sealed || !keeper.autoUnseals) return false;
  try {
    await keeper.autoUnseal();
    logger.info('seal: unsealed from the PKCS#11 token (auto-unseal)');
    return true;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    logger.error({ code: error.code }, `seal: auto-unseal from the PKCS#11 token failed, the store stays sealed: ${error.code}: ${error.message}`);
    return false;
  }
}
