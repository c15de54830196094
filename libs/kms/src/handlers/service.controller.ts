import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, type RpcMeta } from '@sealbox/platform';
import { InstanceService } from '../services/instance.service.js';
import { RegistrationService } from '../services/registration.service.js';
import { WrapService } from '../services/wrap.service.js';
import { ciphertextFromBytes, dekFromBytes } from './wire-fields.js';

const empty = {} as const;

/**
 * Subjects for other services: instances and registrations (lifecycle, tests), data key wrap/unwrap/
 * rewrap (crypto; every call checked against an IAM service-to-service authorization). The wrap
 * subjects' binary fields are converted here (`wire-fields.ts`); WrapService works on Buffers.
 */
@Controller()
export class KmsServiceController {
  constructor(
    private readonly instances: InstanceService,
    private readonly wrapping: WrapService,
    private readonly registrations: RegistrationService,
  ) {}

  @RpcHandler('kms.instance.create')
  createInstance(request: ValidatedRequestOf<'kms.instance.create'>): Promise<ResponseOf<'kms.instance.create'>> {
    return this.instances.create(request);
  }

  @RpcHandler('kms.instance.get')
  getInstance(request: ValidatedRequestOf<'kms.instance.get'>): Promise<ResponseOf<'kms.instance.get'>> {
    return this.instances.get(request);
  }

  @RpcHandler('kms.instance.delete')
  async deleteInstance(request: ValidatedRequestOf<'kms.instance.delete'>): Promise<ResponseOf<'kms.instance.delete'>> {
    await this.instances.delete(request);
    return empty;
  }

  @RpcHandler('kms.key.wrap')
  async wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    const dek = () => dekFromBytes(request.plaintext);
    try {
      const wrapped = await this.wrapping.serviceWrap({ source: request.source, key: request.key, dek, aad: request.aad });
      return { ciphertext: wrapped.ciphertext, keyVersion: { id: wrapped.keyVersionId } };
    } finally {
      // Whatever happened (a disabled key never looks at it), the data key the request carried is zeroed.
      request.plaintext.fill(0);
    }
  }

  @RpcHandler('kms.key.unwrap')
  async unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>, meta: RpcMeta): Promise<ResponseOf<'kms.key.unwrap'>> {
    const ciphertext = () => ciphertextFromBytes(request.ciphertext);
    const unwrapped = await this.wrapping.serviceUnwrap({ source: request.source, key: request.key, ciphertext, aad: request.aad });
    // The data key goes to the transport as it is and is zeroed once the reply is encoded.
    meta.zeroAfterReply?.(unwrapped.dek);
    const { rewrapped } = unwrapped;
    return {
      plaintext: unwrapped.dek,
      keyVersion: { id: unwrapped.version.id },
      ...(rewrapped ? { rewrapped: { ciphertext: rewrapped.ciphertext, keyVersion: { id: rewrapped.keyVersionId } } } : {}),
    };
  }

  @RpcHandler('kms.key.rewrap')
  async rewrap(request: ValidatedRequestOf<'kms.key.rewrap'>): Promise<ResponseOf<'kms.key.rewrap'>> {
    const ciphertext = () => ciphertextFromBytes(request.ciphertext);
    const rewrapped = await this.wrapping.serviceRewrap({ source: request.source, key: request.key, ciphertext, aad: request.aad });
    return { ciphertext: rewrapped.ciphertext, keyVersion: { id: rewrapped.from }, rewrappedKeyVersion: { id: rewrapped.keyVersionId } };
  }

  @RpcHandler('kms.registration.create')
  createRegistration(request: ValidatedRequestOf<'kms.registration.create'>, meta: RpcMeta): Promise<ResponseOf<'kms.registration.create'>> {
    return this.registrations.create(request, meta.caller?.iamId ?? 'lifecycle');
  }

  @RpcHandler('kms.registration.delete')
  async deleteRegistration(request: ValidatedRequestOf<'kms.registration.delete'>): Promise<ResponseOf<'kms.registration.delete'>> {
    await this.registrations.delete(request);
    return empty;
  }
}
