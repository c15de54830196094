import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { SecretsWire, type Action, type ResponseOf } from '@sealbox/contracts';
import { DomainError, RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, Public, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { Operation, Tag } from '../openapi/operation.js';
import { checked, objectBody, pathOf, queryOf, requestFor } from './body.js';

const MERGE_PATCH = ['application/merge-patch+json', 'application/json'];
const INSTANCE_PATH = { instanceGuid: 'instance_guid' } as const;
const CONFIGURATION_PATH = { ...INSTANCE_PATH, configType: SecretsWire.CONFIGURATION_TYPE_HEADER } as const;

const instance = (request: RouteRequest) => ({ serviceName: 'secrets-manager', serviceInstance: param(request, 'instance_guid') });
const onInstance = (action: Action) => RequiresAction(action, instance);
const readingConfiguration = (action: Action) => RequiresAction(action, instance, { deniedAs: 'NOT_FOUND' });

/** The `X-Sm-Accept-Configuration-Type` header, when the client sent one (IBM's SDK always does on get/update/delete/action). */
function configTypeOf(header: string | undefined): { configType?: string } {
  return header === undefined || header === '' ? {} : { configType: header };
}

/**
 * Secrets Manager v2 configurations of the private_cert engine (`/configurations`): root and
 * intermediate CAs and certificate templates, their actions, and each CA's CRL (public: a CRL is
 * signed public data that every verifier needs). Checked on the instance; reading a configuration
 * denied → 404.
 */
@Tag('Secrets Manager configurations', { name: 'The name of the configuration' })
@Controller('secrets-manager/:instance_guid/api/v2')
export class ConfigurationsRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('configurations')
  @onInstance('secrets-manager.configuration.create')
  @HttpCode(201)
  @Operation({ summary: 'Create a private_cert configuration: a root CA, an intermediate CA or a certificate template', subject: 'secrets.configuration.create', body: SecretsWire.ConfigurationPrototype })
  create(@Param('instance_guid') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.configuration.create'>> {
    const configuration = checked(SecretsWire.ConfigurationPrototype, objectBody(body));
    return this.rpc.send('secrets.configuration.create', requestFor('secrets.configuration.create', { instanceGuid, configuration }, INSTANCE_PATH), { caller });
  }

  @Get('configurations')
  @onInstance('secrets-manager.configuration.list')
  @Operation({ summary: 'List configurations (offset, limit, sort, search, secret_types); next is absent on the last page', subject: 'secrets.configuration.list', query: SecretsWire.ListConfigurationsQuery })
  list(@Param('instance_guid') instanceGuid: string, @Query() query: unknown, @Req() http: { readonly url: string }, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.configuration.list'>> {
    const request = requestFor('secrets.configuration.list', { instanceGuid, path: pathOf(http), query: checked(SecretsWire.ListConfigurationsQuery, queryOf(query)) }, INSTANCE_PATH);
    return this.rpc.send('secrets.configuration.list', request, { caller });
  }

  @Get('configurations/:name')
  @readingConfiguration('secrets-manager.configuration.read')
  @Operation({ summary: 'Get a configuration (a CA with its certificate, chain and status)', subject: 'secrets.configuration.get' })
  get(
    @Param('instance_guid') instanceGuid: string,
    @Param('name') name: string,
    @Headers(SecretsWire.CONFIGURATION_TYPE_HEADER) header: string | undefined,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.configuration.get'>> {
    return this.rpc.send('secrets.configuration.get', requestFor('secrets.configuration.get', { instanceGuid, name, ...configTypeOf(header) }, CONFIGURATION_PATH), { caller });
  }

  @Patch('configurations/:name')
  @onInstance('secrets-manager.configuration.update')
  @Operation({ summary: "Update a configuration (application/merge-patch+json): a CA's max_ttl and CRL settings, a template's rules", subject: 'secrets.configuration.update', body: SecretsWire.TemplatePatch, bodyTypes: MERGE_PATCH })
  update(
    @Param('instance_guid') instanceGuid: string,
    @Param('name') name: string,
    @Headers(SecretsWire.CONFIGURATION_TYPE_HEADER) header: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.configuration.update'>> {
    if (body === undefined || body === null) throw new DomainError('INVALID_BODY', 'The request body must be a JSON merge patch (a JSON object)');
    const request = requestFor('secrets.configuration.update', { instanceGuid, name, ...configTypeOf(header), patch: objectBody(body) }, CONFIGURATION_PATH);
    return this.rpc.send('secrets.configuration.update', request, { caller });
  }

  @Delete('configurations/:name')
  @onInstance('secrets-manager.configuration.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete a configuration nothing else uses (409 while templates or CAs depend on it)', subject: 'secrets.configuration.delete' })
  async delete(
    @Param('instance_guid') instanceGuid: string,
    @Param('name') name: string,
    @Headers(SecretsWire.CONFIGURATION_TYPE_HEADER) header: string | undefined,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.rpc.send('secrets.configuration.delete', requestFor('secrets.configuration.delete', { instanceGuid, name, ...configTypeOf(header) }, CONFIGURATION_PATH), { caller });
  }

  @Post('configurations/:name/actions')
  @onInstance('secrets-manager.configuration.action')
  @HttpCode(201)
  @Operation({ summary: 'Run an action on a CA: sign_intermediate, sign_csr, set_signed, rotate_crl, revoke_ca_certificate', subject: 'secrets.configuration.action', body: SecretsWire.ConfigurationActionPrototype })
  action(
    @Param('instance_guid') instanceGuid: string,
    @Param('name') name: string,
    @Headers(SecretsWire.CONFIGURATION_TYPE_HEADER) header: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.configuration.action'>> {
    const action = checked(SecretsWire.ConfigurationActionPrototype, objectBody(body));
    return this.rpc.send('secrets.configuration.action', requestFor('secrets.configuration.action', { instanceGuid, name, ...configTypeOf(header), action }, CONFIGURATION_PATH), { caller });
  }

  @Get('configurations/:name/crl')
  @Public()
  @Operation({ summary: "The CRL of a CA (PEM in `crl`), re-signed on every revocation and before it expires; public, like any CRL", subject: 'secrets.configuration.crl' })
  crl(@Param('instance_guid') instanceGuid: string, @Param('name') name: string): Promise<ResponseOf<'secrets.configuration.crl'>> {
    return this.rpc.send('secrets.configuration.crl', requestFor('secrets.configuration.crl', { instanceGuid, name }, INSTANCE_PATH));
  }

  @Post('secrets/:id/actions')
  @RequiresAction('secrets-manager.secret.revoke', (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'id') }))
  @HttpCode(201)
  @Operation({ summary: 'Run an action on a secret: private_cert_action_revoke_certificate', subject: 'secrets.secret.action', body: SecretsWire.SecretActionPrototype })
  secretAction(@Param('instance_guid') instanceGuid: string, @Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.action'>> {
    const action = checked(SecretsWire.SecretActionPrototype, objectBody(body));
    return this.rpc.send('secrets.secret.action', requestFor('secrets.secret.action', { instanceGuid, id, action }, INSTANCE_PATH), { caller });
  }
}
