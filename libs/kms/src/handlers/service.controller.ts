import { Controller } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, type RpcMeta } from '@sealbox/platform';
import { InstanceService } from '../services/instance.service.js';
import { RegistrationService } from '../services/registration.service.js';
import { WrapService } from '../services/wrap.service.js';

const empty = {} as const;

/**
 * Subjects for other services: instances and registrations (lifecycle, tests), data key wrap/unwrap/
 * rewrap (crypto; every call checked against an IAM service-to-service authorization).
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
  wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    return this.wrapping.serviceWrap(request);
  }

  @RpcHandler('kms.key.unwrap')
  unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>> {
    return this.wrapping.serviceUnwrap(request);
  }

  @RpcHandler('kms.key.rewrap')
  rewrap(request: ValidatedRequestOf<'kms.key.rewrap'>): Promise<ResponseOf<'kms.key.rewrap'>> {
    return this.wrapping.serviceRewrap(request);
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
