import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { RpcClient, type Caller } from '@sealbox/platform';
import { Authenticated, CurrentCaller, Public } from '../auth/access.decorators.js';
import { Operation, Tag } from '../openapi/operation.js';
import { checked } from '../routes/body.js';
import { SEAL_CONTROL, type SealControl } from './seal-control.js';
import { RotateResponse, SealSecretRequest, SealSecretResponse, SealStatus, UnsealRequest } from './seal.wire.js';

/**
 * The seal endpoints anyone may call, sealed or not (Vault's semantics, a Sealbox extension): what
 * state the key store is in, its first unseal secret, and one unseal input per call.
 */
@Tag('Seal (Sealbox extension)')
@Public()
@Controller('v1/sys')
export class SealStatusRoutes {
  constructor(@Inject(SEAL_CONTROL) private readonly seal: SealControl) {}

  @Get('seal-status')
  @Operation({ summary: 'Whether the key store is initialised and sealed, and the unseal progress (k of n)', response: SealStatus })
  status(): SealStatus {
    return this.seal.status();
  }

  @Post('init')
  @HttpCode(200)
  @Operation({
    summary:
      'Initialise an empty key store with its unseal secret: a passphrase, n Shamir shares of which k unseal (shown once), or the configured PKCS#11 token (auto-unseal); 409 once initialised',
    body: SealSecretRequest,
    response: SealSecretResponse,
  })
  initialize(@Body() body: unknown): Promise<SealSecretResponse> {
    return this.seal.initialize(checked(SealSecretRequest, body));
  }

  @Post('unseal')
  @HttpCode(200)
  @Operation({
    summary:
      'Give one unseal input (a share, the passphrase or the key), or {} to unseal a pkcs11 (auto-unseal) store from its token again; a wrong secret is 400 UNSEAL_FAILED and resets the progress (rate limited)',
    body: UnsealRequest,
    response: SealStatus,
  })
  unseal(@Body() body: unknown): Promise<SealStatus> {
    return this.seal.unseal(checked(UnsealRequest, body));
  }
}

/** What only a platform operator may do: seal, rekey, rotate the master key. */
@Tag('Seal (Sealbox extension)')
@Controller('v1/sys')
export class SealAdminRoutes {
  constructor(
    @Inject(SEAL_CONTROL) private readonly seal: SealControl,
    private readonly rpc: RpcClient,
  ) {}

  @Post('seal')
  @Authenticated('sealbox.seal')
  @HttpCode(204)
  @Operation({ summary: 'Seal: drop every key from memory (DEK caches, HSM keys, signing keys); only the seal endpoints answer until unsealed (platform operators)', response: null })
  async sealNow(@CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.operator.authorize', { action: 'sealbox.seal' }, { caller });
    await this.seal.seal();
  }

  @Post('rekey')
  @Authenticated('sealbox.rekey')
  @HttpCode(200)
  @Operation({
    summary: 'Change the unseal secret (new passphrase or new shares, any kind) without re-encrypting data (platform operators)',
    body: SealSecretRequest,
    response: SealSecretResponse,
  })
  async rekey(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<SealSecretResponse> {
    const request = checked(SealSecretRequest, body);
    await this.rpc.send('iam.operator.authorize', { action: 'sealbox.rekey' }, { caller });
    return this.seal.rekey(request);
  }

  @Post('rotate')
  @Authenticated('sealbox.rekey')
  @HttpCode(200)
  @Operation({ summary: 'Rotate the soft HSM master key: every stored key re-wrapped under a new one, crash-safely (platform operators)', response: RotateResponse })
  async rotate(@CurrentCaller() caller: Caller): Promise<RotateResponse> {
    await this.rpc.send('iam.operator.authorize', { action: 'sealbox.rekey' }, { caller });
    return this.seal.rotateMasterKey();
  }
}
