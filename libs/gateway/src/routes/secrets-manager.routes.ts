import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SecretsWire, type Action, type ResponseOf } from '@sealbox/contracts';
import { DomainError, RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { checked, objectBody, pathOf, queryOf, requestFor, type WireNames } from './body.js';

const instance = (request: RouteRequest) => ({ serviceName: 'secrets-manager', serviceInstance: param(request, 'instance') });
const secret = (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'id') });

/** A collection of the instance, or a new secret: denied with 403. */
const onInstance = (action: Action) => RequiresAction(action, instance);
/** A read of one secret (or of its versions or locks): denied like a secret that does not exist (404). */
const readingSecret = (action: Action) => RequiresAction(action, secret, { deniedAs: 'NOT_FOUND' });
/** A change to one secret: denied with 403. */
const changingSecret = (action: Action) => RequiresAction(action, secret);

/** What the list routes read of the request: its URL, whose path the page links repeat. */
interface ListRequest {
  readonly url: string;
}

/** IBM's names of the path parameters, for errors: `/secrets/{id}/…` and `/secrets/{secret_id}/versions/{id}/…`. */
const SECRET_PATH = { secretId: 'id' } as const;
const VERSION_PATH = { secretId: 'secret_id', id: 'id', versionId: 'id' } as const;

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
@ApiTags('Secrets Manager')
@Controller('secrets-manager/:instance/api/v2')
export class SecretsManagerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  // ---- secret groups ----

  @Post('secret_groups')
  @RequiresAction('secrets-manager.secret-group.create', instance)
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret group (name unique in the instance)' })
  createGroup(@Param('instance') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.create'>> {
    const request = requestFor('secrets.group.create', { ...objectBody(body), instanceGuid });
    return this.rpc.send('secrets.group.create', request, { caller });
  }

  @Get('secret_groups')
  @RequiresAction('secrets-manager.secret-group.list', instance)
  @ApiOperation({ summary: 'List the secret groups of the instance (default first)' })
  listGroups(@Param('instance') instanceGuid: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.list'>> {
    return this.rpc.send('secrets.group.list', requestFor('secrets.group.list', { instanceGuid }), { caller });
  }

  @Get('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.read', instance, { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a secret group' })
  getGroup(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.get'>> {
    return this.rpc.send('secrets.group.get', requestFor('secrets.group.get', { instanceGuid, id }), { caller });
  }

  @Patch('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.update', instance)
  @ApiOperation({ summary: 'Update the name or description of a secret group (application/merge-patch+json)' })
  updateGroup(
    @Param('instance') instanceGuid: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.group.update'>> {
    const request = requestFor('secrets.group.update', { ...objectBody(body), instanceGuid, id });
    return this.rpc.send('secrets.group.update', request, { caller });
  }

  @Delete('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.delete', instance)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an empty secret group (not default)' })
  async deleteGroup(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('secrets.group.delete', requestFor('secrets.group.delete', { instanceGuid, id }), { caller });
  }

  // ---- secrets ----

  @Post('secrets')
  @onInstance('secrets-manager.secret.create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret (arbitrary, username_password, kv, imported_cert, iam_credentials) with its first version' })
  create(@Param('instance') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.create'>> {
    const prototype = checked(SecretsWire.SecretPrototype, objectBody(body));
    return this.rpc.send('secrets.secret.create', requestFor('secrets.secret.create', { instanceGuid, secret: prototype }), { caller });
  }

  @Get('secrets')
  @onInstance('secrets-manager.secret.list')
  @ApiOperation({ summary: 'List secret metadata (offset, limit, sort, search, groups, secret_types, match_all_labels); next is absent on the last page' })
  list(
    @Param('instance') instanceGuid: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.list'>> {
    const request = requestFor('secrets.secret.list', { instanceGuid, path: pathOf(http), query: checked(SecretsWire.ListSecretsQuery, queryOf(query)) });
    return this.rpc.send('secrets.secret.list', request, { caller });
  }

  @Get('secrets/:id')
  @readingSecret('secrets-manager.secret.read')
  @ApiOperation({ summary: 'Get a secret with the payload of its current version' })
  get(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.get'>> {
    return this.rpc.send('secrets.secret.get', requestFor('secrets.secret.get', { instanceGuid, id }), { caller });
  }

  @Get('secrets/:id/metadata')
  @readingSecret('secrets-manager.secret.metadata.read')
  @ApiOperation({ summary: 'Get the metadata of a secret (no payload)' })
  getMetadata(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.metadata.get'>> {
    return this.rpc.send('secrets.secret.metadata.get', requestFor('secrets.secret.metadata.get', { instanceGuid, id }), { caller });
  }

  @Patch('secrets/:id/metadata')
  @changingSecret('secrets-manager.secret.update')
  @ApiOperation({ summary: "Update a secret's metadata (application/merge-patch+json; the fields its type takes, null removes)" })
  updateMetadata(
    @Param('instance') instanceGuid: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.metadata.update'>> {
    const request = requestFor('secrets.secret.metadata.update', { instanceGuid, id, patch: mergePatch(body) });
    return this.rpc.send('secrets.secret.metadata.update', request, { caller });
  }

  @Delete('secrets/:id')
  @changingSecret('secrets-manager.secret.delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a secret with every version, data and metadata (409 while a version is locked)' })
  async delete(
    @Param('instance') instanceGuid: string,
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    // `force_delete` only means something for IBM's custom_credentials: checked, then without effect.
    checked(SecretsWire.DeleteSecretQuery, queryOf(query));
    await this.rpc.send('secrets.secret.delete', requestFor('secrets.secret.delete', { instanceGuid, id }), { caller });
  }

  @Get('secret_groups/:secret_group_name/secret_types/:secret_type/secrets/:name')
  @RequiresAction('secrets-manager.secret.read', instance, { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a secret with its payload by group name, secret type and name' })
  getByName(
    @Param('instance') instanceGuid: string,
    @Param('secret_group_name') groupName: string,
    @Param('secret_type') secretType: string,
    @Param('name') name: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.secret.get-by-name'>> {
    const request = requestFor(
      'secrets.secret.get-by-name',
      { instanceGuid, groupName, secretType, name },
      { groupName: 'secret_group_name', secretType: 'secret_type' },
    );
    return this.rpc.send('secrets.secret.get-by-name', request, { caller });
  }

  // ---- versions ----

  @Post('secrets/:id/versions')
  @changingSecret('secrets-manager.secret.rotate')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a new version of a secret (rotation); the body is the version prototype of its type' })
  createVersion(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.create'>> {
    const request = requestFor('secrets.version.create', { instanceGuid, secretId, version: objectBody(body) }, VERSION_PATH);
    return this.rpc.send('secrets.version.create', request, { caller });
  }

  @Get('secrets/:id/versions')
  @readingSecret('secrets-manager.secret.metadata.read')
  @ApiOperation({ summary: 'List the versions of a secret (metadata)' })
  listVersions(@Param('instance') instanceGuid: string, @Param('id') secretId: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.version.list'>> {
    return this.rpc.send('secrets.version.list', requestFor('secrets.version.list', { instanceGuid, secretId }, VERSION_PATH), { caller });
  }

  @Get('secrets/:id/versions/:version_id')
  @readingSecret('secrets-manager.secret.read')
  @ApiOperation({ summary: 'Get a version with its payload (by id, current or previous)' })
  getVersion(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.get'>> {
    return this.rpc.send('secrets.version.get', requestFor('secrets.version.get', { instanceGuid, secretId, id }, VERSION_PATH), { caller });
  }

  @Get('secrets/:id/versions/:version_id/metadata')
  @readingSecret('secrets-manager.secret.metadata.read')
  @ApiOperation({ summary: 'Get the metadata of a version (by id, current or previous)' })
  getVersionMetadata(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.metadata.get'>> {
    const request = requestFor('secrets.version.metadata.get', { instanceGuid, secretId, id }, VERSION_PATH);
    return this.rpc.send('secrets.version.metadata.get', request, { caller });
  }

  @Patch('secrets/:id/versions/:version_id/metadata')
  @changingSecret('secrets-manager.secret.update')
  @ApiOperation({ summary: "Update a version's version_custom_metadata (application/merge-patch+json; null removes)" })
  updateVersionMetadata(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.version.metadata.update'>> {
    const patch = checked(SecretsWire.SecretVersionMetadataPatch, mergePatch(body));
    const request = requestFor('secrets.version.metadata.update', { instanceGuid, secretId, id, patch }, VERSION_PATH);
    return this.rpc.send('secrets.version.metadata.update', request, { caller });
  }

  @Delete('secrets/:id/versions/:version_id/secret_data')
  @changingSecret('secrets-manager.secret.delete')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete a version's data: its metadata stays with payload_available false (409 while it is locked)" })
  async deleteVersionData(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.rpc.send('secrets.version.data.delete', requestFor('secrets.version.data.delete', { instanceGuid, secretId, id }, VERSION_PATH), { caller });
  }

  // ---- locks ----

  @Post('secrets/:id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @HttpCode(201)
  @ApiOperation({ summary: "Lock a secret's current version (bulk; mode=remove_previous|remove_previous_and_delete); a lock of the same name is replaced" })
  createLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.create'>> {
    return this.lock(caller, { instanceGuid, secretId }, query, body, SECRET_PATH);
  }

  @Delete('secrets/:id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @ApiOperation({ summary: "Remove locks of a secret from every version that holds them (bulk; name=a,b, all when omitted); answers the locks left" })
  deleteLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.delete'>> {
    return this.unlock(caller, { instanceGuid, secretId }, query, SECRET_PATH);
  }

  @Get('secrets/:id/locks')
  @readingSecret('secrets-manager.secret.metadata.read')
  @ApiOperation({ summary: 'List the locks of every version of a secret (offset, limit, sort, search)' })
  listLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list'>> {
    return this.locks(caller, { instanceGuid, secretId }, query, http, SECRET_PATH);
  }

  @Post('secrets/:id/versions/:version_id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @HttpCode(201)
  @ApiOperation({ summary: 'Lock a version of a secret (bulk; mode=remove_previous|remove_previous_and_delete); a lock of the same name is replaced' })
  createVersionLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') versionId: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.create'>> {
    return this.lock(caller, { instanceGuid, secretId, versionId }, query, body, VERSION_PATH);
  }

  @Delete('secrets/:id/versions/:version_id/locks_bulk')
  @changingSecret('secrets-manager.secret.lock')
  @ApiOperation({ summary: 'Remove locks of a version of a secret (bulk; name=a,b, all when omitted); answers the locks left' })
  deleteVersionLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') versionId: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.delete'>> {
    return this.unlock(caller, { instanceGuid, secretId, versionId }, query, VERSION_PATH);
  }

  @Get('secrets/:id/versions/:version_id/locks')
  @readingSecret('secrets-manager.secret.metadata.read')
  @ApiOperation({ summary: 'List the locks of a version of a secret (offset, limit, sort, search)' })
  listVersionLocks(
    @Param('instance') instanceGuid: string,
    @Param('id') secretId: string,
    @Param('version_id') versionId: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list'>> {
    return this.locks(caller, { instanceGuid, secretId, versionId }, query, http, VERSION_PATH);
  }

  @Get('secrets_locks')
  @onInstance('secrets-manager.secret.list')
  @ApiOperation({ summary: 'List every secret of the instance that has locks, with its locked versions (offset, limit, search, groups)' })
  listSecretsLocks(
    @Param('instance') instanceGuid: string,
    @Query() query: unknown,
    @Req() http: ListRequest,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.lock.list-all'>> {
    const request = requestFor('secrets.lock.list-all', {
      instanceGuid,
      path: pathOf(http),
      query: checked(SecretsWire.ListSecretsLocksQuery, queryOf(query)),
    });
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
