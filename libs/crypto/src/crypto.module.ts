import { Module, type DynamicModule } from '@nestjs/common';
import { CryptoRpcController } from './crypto.controller.js';

export type CryptoModuleOptions = Record<string, never>;

/** Envelope encryption: DEKs, AES-256-GCM seal/open, DEK wrap/unwrap through kms, DEK cache. */
@Module({})
export class CryptoModule {
  static register(_options: CryptoModuleOptions = {}): DynamicModule {
    return { module: CryptoModule, controllers: [CryptoRpcController] };
  }
}
