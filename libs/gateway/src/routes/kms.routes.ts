import { Body, Controller, Delete, Get, Head, Headers, HttpCode, Inject, Injectable, Param, Post, Put, Query, Res, type OnModuleDestroy } from '@nestjs/common';
import { isAction, KmsWire, type Action, type ResponseOf } from '@sealbox/contracts';
import { Clock, DomainError, EVENT_SUBSCRIBER, EventClearedCache, RpcClient, type Caller, type EventSubscriber } from '@sealbox/platform';
import { CurrentCaller, header, param, RequiresAction, type AccessCheck, type AccessRefiner, type RouteRequest } from '../auth/access.decorators.js';
import { Operation, requestBody, Tag } from '../openapi/operation.js';
import { objectBody, requestFor } from './body.js';

/** How long the gateway remembers which service (kms | hs-crypto) an instance belongs to. */
export const KMS_INSTANCE_CACHE_TTL_MS = 60_000;

type KmsServiceName = 'kms' | 'hs-crypto';

/**
 * Key Protect routes name a `kms.*` action and a `kms` resource; an HPCS-like instance is an
 * `hs-crypto` one, and IAM must see that. This asks kms which service the `Bluemix-Instance` belongs
 * to (`kms.instance.get` in the caller's account, remembered for a minute, forgotten when an instance
 * is deleted) and retargets the check. An instance that does not exist or belongs to another account
 * gets the route's denial: the same answer as an instance the caller has no access to.
 */
@Injectable()
export class KmsInstanceAccess implements AccessRefiner, OnModuleDestroy {
  private readonly services: EventClearedCache<KmsServiceName>;

  constructor(
    private readonly rpc: RpcClient,
    clock: Clock,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    this.services = new EventClearedCache(clock, KMS_INSTANCE_CACHE_TTL_MS, 10_000, events, ['events.kms.instance.deleted']);
  }

  async refine(check: AccessCheck, caller: Caller, denied: () => DomainError): Promise<AccessCheck> {
    const instanceId = check.resource.serviceInstance ?? '';
    if (!instanceId) {
      throw new DomainError('VALIDATION_FAILED', 'The Bluemix-Instance header is required', [{ field: 'Bluemix-Instance', message: 'required header' }]);
    }
    const serviceName = await this.serviceOf(caller, instanceId, denied);
    const action = `${serviceName}.${check.action.slice(check.action.indexOf('.') + 1)}`;
    if (!isAction(action)) throw new Error(`no action ${action} for ${check.action}`);
    return { action: action satisfies Action, resource: { ...check.resource, serviceName } };
  }

  private async serviceOf(caller: Caller, instanceId: string, denied: () => DomainError): Promise<KmsServiceName> {
    const key = `${caller.accountId}/${instanceId}`;
    const cached = this.services.get(key);
    if (cached) return cached;
    try {
      const instance = await this.rpc.send('kms.instance.get', { accountId: caller.accountId, instanceId }, { caller });
      this.services.set(key, instance.serviceName);
      return instance.serviceName;
    } catch (error) {
      if (error instanceof DomainError && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED')) throw denied();
      throw error;
    }
  }

  onModuleDestroy(): void {
    this.services.dispose();
  }
}

const instanceResource = (request: RouteRequest) => ({ serviceName: 'kms', serviceInstance: header(request, 'bluemix-instance') });
const keyResource = (request: RouteRequest) => ({ ...instanceResource(request), resourceType: 'key', resource: param(request, 'id') });

/** Access to one key: denied like a missing key (404). */
const onKey = (action: Action) => RequiresAction(action, keyResource, { deniedAs: 'NOT_FOUND', refine: KmsInstanceAccess });
/** Access to the instance: denied with 403 (also for an instance the caller cannot see). */
const onInstance = (action: Action) => RequiresAction(action, instanceResource, { refine: KmsInstanceAccess });

/** The reply methods routes use (headers, and a status chosen at run time). */
export interface KmsReply {
  header(name: string, value: string): unknown;
  status(code: number): unknown;
}

const KEY_JSON = KmsWire.KEY_COLLECTION_TYPE;
/** The media type the Key Protect SDK sends a key action's body in. */
const keyAction = (action: string) => `application/vnd.ibm.kms.key_action_${action}+json`;
/** A body's media types: the SDK's vendor type, and plain JSON. */
const bodyTypes = (vendor: string) => [vendor, 'application/json'];

function instanceOf(value: string | undefined): string {
  if (!value) {
    throw new DomainError('VALIDATION_FAILED', 'The Bluemix-Instance header is required', [{ field: 'Bluemix-Instance', message: 'required header' }]);
  }
  return value;
}

/** `Prefer: return=representation` asks for the key in the answer of a delete, and for a standard key's payload in the answer of a create. */
const wantsRepresentation = (prefer: string | undefined) => /return=representation/i.test(prefer ?? '');

/**
 * Key Protect v2 under /kms (the SDK's serviceUrl is `<gateway>/kms`); the instance travels in the
 * `Bluemix-Instance` header, the caller to kms with every request. Key collections answer
 * `application/vnd.ibm.kms.key+json`. docs/key-management.md, "Key Protect API", says what is supported.
 */
@Tag('Key Protect', { id: 'The id of the key, or one of its aliases' })
@Controller('kms/api/v2')
export class KmsRoutes {
  constructor(private readonly rpc: RpcClient) {}

  // ---- keys ----

  // Declared before GET keys: Fastify then keeps this HEAD instead of deriving one from the GET.
  @Head('keys')
  @onInstance('kms.key.list')
  @Operation({ summary: 'Count keys: the Key-Total header (state, extractable)', subject: 'kms.api.key.count', query: requestBody('kms.api.key.count', 'instanceId'), response: null, responseHeaders: ['Key-Total'] })
  async countKeys(
    @Headers('bluemix-instance') instance: string | undefined,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<void> {
    const request = requestFor('kms.api.key.count', { ...query, instanceId: instanceOf(instance) });
    const { total } = await this.rpc.send('kms.api.key.count', request, { caller });
    reply.header('key-total', String(total));
  }

  @Post('keys')
  @onInstance('kms.key.create')
  @HttpCode(201)
  @Operation({ summary:
      'Create a key: a root key (generated, imported, or imported with the import token) or a standard key (extractable: true); Prefer: return=representation returns a standard key\'s payload', subject: 'kms.api.key.create', body: requestBody('kms.api.key.create', 'instanceId', 'returnPayload'), bodyTypes: bodyTypes(KEY_JSON), responseType: KEY_JSON })
  async createKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.create'>> {
    const request = requestFor('kms.api.key.create', {
      ...objectBody(body),
      instanceId: instanceOf(instance),
      returnPayload: wantsRepresentation(prefer),
    });
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.create', request, { caller });
  }

  @Get('keys')
  @onInstance('kms.key.list')
  @Operation({ summary: 'List keys (limit, offset, state, extractable)', subject: 'kms.api.key.list', query: requestBody('kms.api.key.list', 'instanceId'), responseType: KEY_JSON })
  async listKeys(
    @Headers('bluemix-instance') instance: string | undefined,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.list'>> {
    const request = requestFor('kms.api.key.list', { ...query, instanceId: instanceOf(instance) });
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.list', request, { caller });
  }

  @Get('keys/registrations')
  @onInstance('kms.registration.read')
  @Operation({ summary: 'List the registrations of every key of the instance', subject: 'kms.api.registration.list', query: requestBody('kms.api.registration.list', 'instanceId', 'id') })
  registrationsOfAllKeys(
    @Headers('bluemix-instance') instance: string | undefined,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.registration.list'>> {
    const request = requestFor('kms.api.registration.list', { ...withoutId(query), instanceId: instanceOf(instance) });
    return this.rpc.send('kms.api.registration.list', request, { caller });
  }

  @Get('keys/:id')
  @onKey('kms.key.read')
  @Operation({ summary: 'Get a key by id or alias (410 once deleted); a standard key with its payload', subject: 'kms.api.key.get', responseType: KEY_JSON })
  getKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.get'>> {
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.get', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Get('keys/:id/metadata')
  @onKey('kms.key.read')
  @Operation({ summary: 'Get the metadata of a key (also once deleted)', subject: 'kms.api.key.metadata', responseType: KEY_JSON })
  keyMetadata(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.metadata'>> {
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.metadata', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Delete('keys/:id')
  @onKey('kms.key.delete')
  @Operation({ summary: 'Delete a key (force=true also removes its registrations); Prefer: return=representation for the key', subject: 'kms.api.key.delete', query: requestBody('kms.api.key.delete', 'instanceId', 'id'), responseType: KEY_JSON, alternatives: { 204: 'Deleted (no body: without Prefer: return=representation)' } })
  async deleteKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.delete'> | undefined> {
    const request = requestFor('kms.api.key.delete', { ...withoutId(query), instanceId: instanceOf(instance), id });
    const deleted = await this.rpc.send('kms.api.key.delete', request, { caller });
    if (!wantsRepresentation(prefer)) {
      reply.status(204);
      return undefined;
    }
    reply.status(200);
    reply.header('content-type', KEY_JSON);
    return deleted;
  }

  @Delete('keys/:id/purge')
  @onKey('kms.key.purge')
  @Operation({ summary: 'Purge a deleted key (at least 4 h after its deletion)', subject: 'kms.api.key.purge', responseType: KEY_JSON })
  purgeKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.purge'>> {
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.purge', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Post('keys/:id/restore')
  @onKey('kms.key.restore')
  @HttpCode(201)
  @Operation({ summary: 'Restore a deleted key within 30 days (imported keys: with their key material)', subject: 'kms.api.key.restore', body: requestBody('kms.api.key.restore', 'instanceId', 'id'), bodyRequired: false, bodyTypes: bodyTypes(keyAction('restore')), responseType: KEY_JSON })
  restoreKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: KmsReply,
  ): Promise<ResponseOf<'kms.api.key.restore'>> {
    const request = requestFor('kms.api.key.restore', { ...objectBody(body), instanceId: instanceOf(instance), id });
    reply.header('content-type', KEY_JSON);
    return this.rpc.send('kms.api.key.restore', request, { caller });
  }

  @Get('keys/:id/versions')
  @onKey('kms.key.read')
  @Operation({ summary: 'List the versions of a key', subject: 'kms.api.key.versions', query: requestBody('kms.api.key.versions', 'instanceId', 'id') })
  keyVersions(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.key.versions'>> {
    const request = requestFor('kms.api.key.versions', { ...withoutId(query), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.versions', request, { caller });
  }

  @Get('keys/:id/registrations')
  @onKey('kms.registration.read')
  @Operation({ summary: 'List the registrations of a key', subject: 'kms.api.registration.list', query: requestBody('kms.api.registration.list', 'instanceId', 'id') })
  registrationsOfKey(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.registration.list'>> {
    const request = requestFor('kms.api.registration.list', { ...withoutId(query), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.registration.list', request, { caller });
  }

  // ---- key actions ----

  @Post('keys/:id/actions/wrap')
  @onKey('kms.key.wrap')
  @HttpCode(200)
  @Operation({ summary: 'Wrap a data key (none given: a new 256-bit key is generated and returned)', subject: 'kms.api.key.wrap', body: requestBody('kms.api.key.wrap', 'instanceId', 'id'), bodyRequired: false, bodyTypes: bodyTypes(keyAction('wrap')) })
  wrap(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    const request = requestFor('kms.api.key.wrap', { ...objectBody(body), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.wrap', request, { caller });
  }

  @Post('keys/:id/actions/unwrap')
  @onKey('kms.key.unwrap')
  @HttpCode(200)
  @Operation({ summary: 'Unwrap a data key (of an older key version: also rewrapped under the newest)', subject: 'kms.api.key.unwrap', body: requestBody('kms.api.key.unwrap', 'instanceId', 'id'), bodyTypes: bodyTypes(keyAction('unwrap')) })
  unwrap(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    const request = requestFor('kms.api.key.unwrap', { ...objectBody(body), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.unwrap', request, { caller });
  }

  @Post('keys/:id/actions/rewrap')
  @onKey('kms.key.rewrap')
  @HttpCode(200)
  @Operation({ summary: 'Rewrap a data key under the newest key version', subject: 'kms.api.key.rewrap', body: requestBody('kms.api.key.rewrap', 'instanceId', 'id'), bodyTypes: bodyTypes(keyAction('rewrap')) })
  rewrap(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    const request = requestFor('kms.api.key.rewrap', { ...objectBody(body), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.rewrap', request, { caller });
  }

  @Post('keys/:id/actions/rotate')
  @onKey('kms.key.rotate')
  @HttpCode(204)
  @Operation({ summary: 'Rotate a key (imported keys: with new key material)', subject: 'kms.api.key.rotate', body: requestBody('kms.api.key.rotate', 'instanceId', 'id'), bodyRequired: false, bodyTypes: bodyTypes(keyAction('rotate')) })
  async rotate(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<void> {
    const request = requestFor('kms.api.key.rotate', { ...objectBody(body), instanceId: instanceOf(instance), id });
    await this.rpc.send('kms.api.key.rotate', request, { caller });
  }

  @Post('keys/:id/actions/disable')
  @onKey('kms.key.disable')
  @HttpCode(204)
  @Operation({ summary: 'Disable a key: wrap and unwrap fail until it is enabled', subject: 'kms.api.key.disable' })
  async disable(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('kms.api.key.disable', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Post('keys/:id/actions/enable')
  @onKey('kms.key.enable')
  @HttpCode(204)
  @Operation({ summary: 'Enable a disabled key', subject: 'kms.api.key.enable' })
  async enable(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('kms.api.key.enable', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Post('keys/:id/actions/setKeyForDeletion')
  @onKey('kms.key.delete')
  @HttpCode(204)
  @Operation({ summary: 'Dual authorization delete: authorize another identity to delete the key (7 days)', subject: 'kms.api.key.set-for-deletion' })
  async setKeyForDeletion(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('kms.api.key.set-for-deletion', { instanceId: instanceOf(instance), id }, { caller });
  }

  @Post('keys/:id/actions/unsetKeyForDeletion')
  @onKey('kms.key.delete')
  @HttpCode(204)
  @Operation({ summary: 'Cancel a deletion authorization', subject: 'kms.api.key.unset-for-deletion' })
  async unsetKeyForDeletion(@Headers('bluemix-instance') instance: string | undefined, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('kms.api.key.unset-for-deletion', { instanceId: instanceOf(instance), id }, { caller });
  }

  // ---- aliases and policies ----

  @Post('keys/:id/aliases/:alias')
  @onKey('kms.key.create')
  @HttpCode(201)
  @Operation({ summary: 'Add an alias to a key', subject: 'kms.api.key.alias.create' })
  createAlias(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Param('alias') alias: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.key.alias.create'>> {
    return this.rpc.send('kms.api.key.alias.create', requestFor('kms.api.key.alias.create', { instanceId: instanceOf(instance), id, alias }), { caller });
  }

  @Delete('keys/:id/aliases/:alias')
  @onKey('kms.key.create')
  @HttpCode(204)
  @Operation({ summary: 'Remove an alias of a key', subject: 'kms.api.key.alias.delete' })
  async deleteAlias(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Param('alias') alias: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.rpc.send('kms.api.key.alias.delete', requestFor('kms.api.key.alias.delete', { instanceId: instanceOf(instance), id, alias }), { caller });
  }

  @Get('keys/:id/policies')
  @onKey('kms.key.read')
  @Operation({ summary: 'Read the key policies (policy=rotation|dualAuthDelete)', subject: 'kms.api.key.policy.get', query: requestBody('kms.api.key.policy.get', 'instanceId', 'id') })
  getPolicies(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.key.policy.get'>> {
    const request = requestFor('kms.api.key.policy.get', { ...withoutId(query), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.policy.get', request, { caller });
  }

  @Put('keys/:id/policies')
  @onKey('kms.instance.manage')
  @Operation({ summary: 'Set the key policies (policy=rotation|dualAuthDelete)', subject: 'kms.api.key.policy.put', query: requestBody('kms.api.key.policy.put', 'instanceId', 'id', 'metadata', 'resources'), body: requestBody('kms.api.key.policy.put', 'instanceId', 'id', 'policy') })
  putPolicies(
    @Headers('bluemix-instance') instance: string | undefined,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.key.policy.put'>> {
    const request = requestFor('kms.api.key.policy.put', { ...objectBody(body), ...withoutId(query), instanceId: instanceOf(instance), id });
    return this.rpc.send('kms.api.key.policy.put', request, { caller });
  }

  // ---- import token ----

  @Post('import_token')
  @onInstance('kms.key.import')
  @HttpCode(200)
  @Operation({ summary: 'Create the import token of the instance (replaces the previous one)', subject: 'kms.api.import-token.create', body: requestBody('kms.api.import-token.create', 'instanceId'), bodyRequired: false })
  createImportToken(
    @Headers('bluemix-instance') instance: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.import-token.create'>> {
    const request = requestFor('kms.api.import-token.create', { ...objectBody(body), instanceId: instanceOf(instance) });
    return this.rpc.send('kms.api.import-token.create', request, { caller });
  }

  @Get('import_token')
  @onInstance('kms.key.import')
  @Operation({ summary: 'Retrieve the import token: its public key and nonce (counts one retrieval)', subject: 'kms.api.import-token.get' })
  getImportToken(@Headers('bluemix-instance') instance: string | undefined, @CurrentCaller() caller: Caller): Promise<ResponseOf<'kms.api.import-token.get'>> {
    return this.rpc.send('kms.api.import-token.get', { instanceId: instanceOf(instance) }, { caller });
  }

  // ---- HPCS master key ----

  @Post('instance/master_key/parts')
  @onInstance('kms.instance.manage')
  @HttpCode(200)
  @Operation({ summary: 'HPCS key ceremony: load one master key part ({part: base64 of 32 bytes}); one part per identity', subject: 'kms.api.master-key.load-part', body: requestBody('kms.api.master-key.load-part', 'instanceId') })
  loadMasterKeyPart(
    @Headers('bluemix-instance') instance: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'kms.api.master-key.load-part'>> {
    const request = requestFor('kms.api.master-key.load-part', { ...objectBody(body), instanceId: instanceOf(instance) });
    return this.rpc.send('kms.api.master-key.load-part', request, { caller });
  }

  @Get('instance/master_key')
  @onInstance('kms.instance.read')
  @Operation({ summary: 'HPCS: status of the master key, with its verification pattern once active', subject: 'kms.api.master-key.get' })
  masterKey(@Headers('bluemix-instance') instance: string | undefined, @CurrentCaller() caller: Caller): Promise<ResponseOf<'kms.api.master-key.get'>> {
    return this.rpc.send('kms.api.master-key.get', { instanceId: instanceOf(instance) }, { caller });
  }

  @Delete('instance/master_key')
  @onInstance('kms.instance.manage')
  @Operation({ summary: 'HPCS: zeroize the master key (every key of the instance becomes unusable at once)', subject: 'kms.api.master-key.zeroize' })
  zeroizeMasterKey(@Headers('bluemix-instance') instance: string | undefined, @CurrentCaller() caller: Caller): Promise<ResponseOf<'kms.api.master-key.zeroize'>> {
    return this.rpc.send('kms.api.master-key.zeroize', { instanceId: instanceOf(instance) }, { caller });
  }
}

/** Query parameters may not override what the path says. */
function withoutId(query: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...query };
  delete rest['id'];
  delete rest['instanceId'];
  return rest;
}

export const kmsRouteProviders = [KmsInstanceAccess];
