import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { SecretsWire, type Action, type ResponseOf } from '@sealbox/contracts';
import { DomainError, RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { Operation, Tag } from '../openapi/operation.js';
import { SecretMetadataPatch, SecretVersionPrototype } from '../wire.js';
import { checked, objectBody, pathOf, queryOf, requestFor, type WireNames } from './body.js';

/** PATCH bodies: JSON merge patches, as the SM SDK sends them. */
const MERGE_PATCH = ['application/merge-patch+json', 'application/json'];

const instance = (request: RouteRequest) => ({ serviceName: 'secrets-manager', serviceInstance: param(request, 'instance_guid') });
const secret = (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'id') });
/** The secret of a version route (`/secrets/{secret_id}/versions/{id}`, IBM's names). */
const secretOfVersion = (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'secret_id') });

/** A collection of the instance, or a new secret: denied with 403. */
const onInstance = (action: Action) => RequiresAction(action, instance);
/** A read of one secret (or of its versions or locks): denied like a secret that does not exist (404). */
const readingSecret = (action: Action) => RequiresAction(action, secret, { deniedAs: 'NOT_FOUND' });
/** A change to one secret: denied with 403. */
const changingSecret = (action: Action) => RequiresAction(action, secret);
const readingVersion = (action: Action) => RequiresAction(action, secretOfVersion, { deniedAs: 'NOT_FOUND' });
const changingVersion = (action: Action) => RequiresAction(action, secretOfVersion);

/** What the list routes read of the request: its URL, whose path the page links repeat. */
interface ListRequest {
  readonly url: string;
}

/**
 * IBM's names of the path parameters, as the routes and the OpenAPI document name them, for errors:
 * `/secrets-manager/{instance_guid}`, `/secrets/{id}/…` and `/secrets/{secret_id}/versions/{id}/…`.
 */
const INSTANCE_PATH = { instanceGuid: 'instance_guid' } as const;
const SECRET_PATH = { ...INSTANCE_PATH, secretId: 'id' } as const;
const VERSION_PATH = { ...INSTANCE_PATH, secretId: 'secret_id', id: 'id', versionId: 'id' } as const;

/**
 * Secrets Manager v2, one instance per path prefix (`{serviceUrl}/secrets-manager/{instance_guid}`).
 * Secret groups are checked on the instance; reading one group the caller may not read answers 404,
 * like a group that does not exist. Secrets, their versions and locks are checked on the secret
 * (`resourceType: 'secret'`); creating and listing on the instance. Reads of one secret denied → 404,
 * changes denied → 403.
 *
 * Bodies and query strings are checked here against the public wire schemas (SecretsWire), so a bad
 * field is named as the client wrote it; then they are wrapped in the service request. A body whose
 * schema depends on the stored secret's type (metadata patch, version prototype) must be a JSON
 * object here and is checked by the secrets service.
 */
@Tag('Secrets Manager', { id: 'The id of the secret (of the secret group under /secret_groups; of the version under /versions)', secret_id: 'The id of the secret' })
@Controller('secrets-manager/:instance_guid/api/v2')
export class SecretsManagerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  // ---- secret groups ----

  @Post('secret_groups')
  @RequiresAction('secrets-manager.secret-group.create', instance)
  @HttpCode(201)
  @Operation({ summary: 'Create a secret group (name unique in the instance)', subject: 'secrets.group.create', body: SecretsWire.SecretGroupPrototype })
  createGroup(@Param('instance_guid') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.create'>> {
    const request = requestFor('secrets.group.create', { ...objectBody(body), instanceGuid }, INSTANCE_PATH);
    return this.rpc.send('secrets.group.create', request, { caller });
  }

  @Get('secret_groups')
  @RequiresAction('secrets-manager.secret-group.list', instance)
  @Operation({ summary: 'List the secret groups of the instance (default first)', subject: 'secrets.group.list' })
  listGroups(@Param('instance_guid') instanceGuid: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.list'>> {
    return this.rpc.send('secrets.group.list', requestFor('secrets.group.list', { instanceGuid }, INSTANCE_PATH), { caller });
  }

  @Get('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.read', instance, { deniedAs: 'NOT_FOUND' })
  @Operation({ summary: 'Get a secret group', subject: 'secrets.group.get' })
  getGroup(@Param('instance_guid') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.get'>> {
    return this.rpc.send('secrets.group.get', requestFor('secrets.group.get', { instanceGuid, id }, INSTANCE_PATH), { caller });
  }

  @Patch('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.update', instance)
  @Operation({ summary: 'Update the name or description of a secret group (application/merge-patch+json)', subject: 'secrets.group.update', body: SecretsWire.SecretGroupPatch, bodyTypes: MERGE_PATCH })
  updateGroup(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.group.update'>> {
    const request = requestFor('secrets.group.update', { ...objectBody(body), instanceGuid, id }, INSTANCE_PATH);
    return this.rpc.send('secrets.group.update', request, { caller });
  }

  @Delete('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.delete', instance)
  @HttpCode(204)
  @Operation({ summary: 'Delete an empty secret group (not default)', subject: 'secrets.group.delete' })
  async deleteGroup(@Param('instance_guid') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('secrets.group.delete', requestFor('secrets.group.delete', { instanceGuid, id }, INSTANCE_PATH), { caller });
  }

  // ---- secrets ----

  @Post('secrets')
  @onInstance('secrets-manager.secret.create')
  @HttpCode(201)
  @Operation({ summary: 'Create a secret (arbitrary, username_password, kv, imported_cert, iam_credentials) with its first version', subject: 'secrets.secret.create', body: SecretsWire.SecretPrototype })
  create(@Param('instance_guid') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.create'>> {
    const prototype = checked(SecretsWire.SecretPrototype, objectBody(body));
    return this.rpc.send('secrets.secret.create', requestFor('secrets.secret.create', { instanceGuid, secret: prototype }, INSTANCE_PATH), { caller });
  }

  @Get('secrets')
  @onInstance('secrets-manager.secret.list')
  @Operation({ summary: 'List secret metadata (offset, limit, sort, search, groups, secret_types, match_all_labels); next is absent on the last page', subject: 'secrets.secret.list', query: SecretsWire.ListSecretsQuery })
  list(
    @Param('instance_guid') instanceGuid: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.list'>> {
    const request = requestFor('secrets.secret.list', { instanceGuid, path: pathOf(http), query: checked(SecretsWire.ListSecretsQuery, queryOf(query)) }, INSTANCE_PATH);
    return this.rpc.send('secrets.secret.list', request, { caller });
  }

  @Get('secrets/:id')
  @readingSecret('secrets-manager.secret.read')
  @Operation({ summary: 'Get a secret with the payload of its current version', subject: 'secrets.secret.get' })
  get(@Param('instance_guid') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.get'>> {
    return this.rpc.send('secrets.secret.get', requestFor('secrets.secret.get', { instanceGuid, id }, INSTANCE_PATH), { caller });
  }

  @Get('secrets/:id/metadata')
  @readingSecret('secrets-manager.secret.metadata.read')
  @Operation({ summary: 'Get the metadata of a secret (no payload)', subject: 'secrets.secret.metadata.get' })
  getMetadata(@Param('instance_guid') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.metadata.get'>> {
    return this.rpc.send('secrets.secret.metadata.get', requestFor('secrets.secret.metadata.get', { instanceGuid, id }, INSTANCE_PATH), { caller });
  }

  @Patch('secrets/:id/metadata')
  @changingSecret('secrets-manager.secret.update')
  @Operation({ summary: "Update a secret's metadata (application/merge-patch+json; the fields its type takes, null removes)", subject: 'secrets.secret.metadata.update', body: SecretMetadataPatch, bodyTypes: MERGE_PATCH })
  updateMetadata(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.metadata.update'>> {
    const request = requestFor('secrets.secret.metadata.update', { instanceGuid, id, patch: mergePatch(body) }, INSTANCE_PATH);
    return this.rpc.send('secrets.secret.metadata.update', request, { caller });
  }

  @Delete('secrets/:id')
  @changingSecret('secrets-manager.secret.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete a secret with every version, data and metadata (409 while a version is locked)', subject: 'secrets.secret.delete', query: SecretsWire.DeleteSecretQuery })
  async delete(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    // `force_delete` only means something for IBM's custom_credentials: checked, then without effect.
    checked(SecretsWire.DeleteSecretQuery, queryOf(query));
    await this.rpc.send('secrets.secret.delete', requestFor('secrets.secret.delete', { instanceGuid, id }, INSTANCE_PATH), { caller });
  }

  @Get('secret_groups/:secret_group_name/secret_types/:secret_type/secrets/:name')
  @RequiresAction('secrets-manager.secret.read', instance, { deniedAs: 'NOT_FOUND' })
  @Operation({ summary: 'Get a secret with its payload by group name, secret type and name', subject: 'secrets.secret.get-by-name' })
  getByName(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_group_name') groupName: string,
    @Param('secret_type') secretType: string,
    @Param('name') name: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.get-by-name'>> {
    const request = requestFor(
      'secrets.secret.get-by-name',
      { instanceGuid, groupName, secretType, name },
      { ...INSTANCE_PATH, groupName: 'secret_group_name', secretType: 'secret_type' },
    );
    return this.rpc.send('secrets.secret.get-by-name', request, { caller });
  }

  // ---- versions ----

  @Post('secrets/:secret_id/versions')
  @changingVersion('secrets-manager.secret.rotate')
  @HttpCode(201)
  @Operation({ summary: 'Create a new version of a secret (rotation); the body is the version prototype of its type', subject: 'secrets.version.create', body: SecretVersionPrototype })
  createVersion(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.create'>> {
    const request = requestFor('secrets.version.create', { instanceGuid, secretId, version: objectBody(body) }, VERSION_PATH);
    return this.rpc.send('secrets.version.create', request, { caller });
  }

  @Get('secrets/:secret_id/versions')
  @readingVersion('secrets-manager.secret.metadata.read')
  @Operation({ summary: 'List the versions of a secret (metadata)', subject: 'secrets.version.list' })
  listVersions(@Param('instance_guid') instanceGuid: string, @Param('secret_id') secretId: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.version.list'>> {
    return this.rpc.send('secrets.version.list', requestFor('secrets.version.list', { instanceGuid, secretId }, VERSION_PATH), { caller });
  }

  @Get('secrets/:secret_id/versions/:id')
  @readingVersion('secrets-manager.secret.read')
  @Operation({ summary: 'Get a version with its payload (by id, current or previous)', subject: 'secrets.version.get' })
  getVersion(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.get'>> {
    return this.rpc.send('secrets.version.get', requestFor('secrets.version.get', { instanceGuid, secretId, id }, VERSION_PATH), { caller });
  }

  @Get('secrets/:secret_id/versions/:id/metadata')
  @readingVersion('secrets-manager.secret.metadata.read')
  @Operation({ summary: 'Get the metadata of a version (by id, current or previous)', subject: 'secrets.version.metadata.get' })
  getVersionMetadata(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.metadata.get'>> {
    const request = requestFor('secrets.version.metadata.get', { instanceGuid, secretId, id }, VERSION_PATH);
    return this.rpc.send('secrets.version.metadata.get', request, { caller });
  }

  @Patch('secrets/:secret_id/versions/:id/metadata')
  @changingVersion('secrets-manager.secret.update')
  @Operation({ summary: "Update a version's version_custom_metadata (application/merge-patch+json; null removes)", subject: 'secrets.version.metadata.update', body: SecretsWire.SecretVersionMetadataPatch, bodyTypes: MERGE_PATCH })
  updateVersionMetadata(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.metadata.update'>> {
    const patch = checked(SecretsWire.SecretVersionMetadataPatch, mergePatch(body));
    const request = requestFor('secrets.version.metadata.update', { instanceGuid, secretId, id, patch }, VERSION_PATH);
    return this.rpc.send('secrets.version.metadata.update', request, { caller });
  }

  @Delete('secrets/:secret_id/versions/:id/secret_data')
  @changingVersion('secrets-manager.secret.delete')
  @HttpCode(204)
  @Operation({ summary: "Delete a version's data: its metadata stays with payload_available false (409 while it is locked)", subject: 'secrets.version.data.delete' })
  async deleteVersionData(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.rpc.send('secrets.version.data.delete', requestFor('secrets.version.data.delete', { instanceGuid, secretId, id }, VERSION_PATH), { caller });
  }

  // ---- locks ----

  @Post('secrets/:id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @HttpCode(201)
  @Operation({ summary: "Lock a secret's current version (bulk; mode=remove_previous|remove_previous_and_delete); a lock of the same name is replaced", subject: 'secrets.lock.create', query: SecretsWire.CreateLocksQuery, body: SecretsWire.SecretLocksPrototype })
  createLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.create'>> {
    return this.lock(caller, { instanceGuid, secretId }, query, body, SECRET_PATH);
  }

  @Delete('secrets/:id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @Operation({ summary: "Remove locks of a secret from every version that holds them (bulk; name=a,b, all when omitted); answers the locks left", subject: 'secrets.lock.delete', query: SecretsWire.DeleteLocksQuery })
  deleteLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.delete'>> {
    return this.unlock(caller, { instanceGuid, secretId }, query, SECRET_PATH);
  }

  @Get('secrets/:id/locks')
  @readingSecret('secrets-manager.secret.metadata.read')
  @Operation({ summary: 'List the locks of every version of a secret (offset, limit, sort, search)', subject: 'secrets.lock.list', query: SecretsWire.ListLocksQuery })
  listLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list'>> {
    return this.locks(caller, { instanceGuid, secretId }, query, http, SECRET_PATH);
  }

  @Post('secrets/:secret_id/versions/:id/locks_bulk')
  @changingVersion('secrets-manager.secret.lock')
  @HttpCode(201)
  @Operation({ summary: 'Lock a version of a secret (bulk; mode=remove_previous|remove_previous_and_delete); a lock of the same name is replaced', subject: 'secrets.lock.create', query: SecretsWire.CreateLocksQuery, body: SecretsWire.SecretLocksPrototype })
  createVersionLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') versionId: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.create'>> {
    return this.lock(caller, { instanceGuid, secretId, versionId }, query, body, VERSION_PATH);
  }

  @Delete('secrets/:secret_id/versions/:id/locks_bulk')
  @changingVersion('secrets-manager.secret.lock')
  @Operation({ summary: 'Remove locks of a version of a secret (bulk; name=a,b, all when omitted); answers the locks left', subject: 'secrets.lock.delete', query: SecretsWire.DeleteLocksQuery })
  deleteVersionLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') versionId: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.delete'>> {
    return this.unlock(caller, { instanceGuid, secretId, versionId }, query, VERSION_PATH);
  }

  @Get('secrets/:secret_id/versions/:id/locks')
  @readingVersion('secrets-manager.secret.metadata.read')
  @Operation({ summary: 'List the locks of a version of a secret (offset, limit, sort, search)', subject: 'secrets.lock.list', query: SecretsWire.ListLocksQuery })
  listVersionLocks(
    @Param('instance_guid') instanceGuid: string,
    @Param('secret_id') secretId: string,
    @Param('id') versionId: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list'>> {
    return this.locks(caller, { instanceGuid, secretId, versionId }, query, http, VERSION_PATH);
  }

  @Get('secrets_locks')
  @onInstance('secrets-manager.secret.list')
  @Operation({ summary: 'List every secret of the instance that has locks, with its locked versions (offset, limit, search, groups)', subject: 'secrets.lock.list-all', query: SecretsWire.ListSecretsLocksQuery })
  listSecretsLocks(
    @Param('instance_guid') instanceGuid: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list-all'>> {
    const request = requestFor('secrets.lock.list-all', {
      instanceGuid,
      path: pathOf(http),
      query: checked(SecretsWire.ListSecretsLocksQuery, queryOf(query)),
    }, INSTANCE_PATH);
    return this.rpc.send('secrets.lock.list-all', request, { caller });
  }

  private lock(caller: Caller, target: LockTarget, query: unknown, body: unknown, names: WireNames): Promise<ResponseOf<'secrets.lock.create'>> {
    const { mode } = checked(SecretsWire.CreateLocksQuery, queryOf(query));
    const { locks } = checked(SecretsWire.SecretLocksPrototype, objectBody(body));
    const request = requestFor('secrets.lock.create', { ...target, locks, ...(mode === undefined ? {} : { mode }) }, names);
    return this.rpc.send('secrets.lock.create', request, { caller });
  }

  private unlock(caller: Caller, target: LockTarget, query: unknown, names: WireNames): Promise<ResponseOf<'secrets.lock.delete'>> {
    const { name } = checked(SecretsWire.DeleteLocksQuery, queryOf(query));
    const request = requestFor('secrets.lock.delete', { ...target, ...(name === undefined ? {} : { names: name }) }, names);
    return this.rpc.send('secrets.lock.delete', request, { caller });
  }

  private locks(caller: Caller, target: LockTarget, query: unknown, http: ListRequest, names: WireNames): Promise<ResponseOf<'secrets.lock.list'>> {
    const request = requestFor('secrets.lock.list', { ...target, path: pathOf(http), query: checked(SecretsWire.ListLocksQuery, queryOf(query)) }, names);
    return this.rpc.send('secrets.lock.list', request, { caller });
  }
}

/** A secret's current version (no versionId), or one of its versions. */
interface LockTarget {
  readonly instanceGuid: string;
  readonly secretId: string;
  readonly versionId?: string;
}

/** A merge patch body: a JSON object (anything else is 400 INVALID_BODY, also an absent body). */
function mergePatch(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) throw new DomainError('INVALID_BODY', 'The request body must be a JSON merge patch (a JSON object)');
  return objectBody(body);
}
