import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { IamWire, Subjects, type ResponseOf } from '@sealbox/contracts';
import { RpcClient, type Caller } from '@sealbox/platform';
import { Authenticated, CurrentCaller, Public, RequiresAction } from '../auth/access.decorators.js';
import { Operation, requestBody, Tag } from '../openapi/operation.js';
import { objectBody, requestFor } from './body.js';

/** The one reply method routes use, to set ETag. */
export interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** IAM at the root, as iam.cloud.ibm.com serves it: tokens, service IDs, API keys. */
@Tag('IAM Identity', { id: 'The id of the service ID or API key' })
@Controller()
export class IamRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('identity/token')
  @Public()
  @HttpCode(200)
  @Operation({ summary: 'Exchange an API key or refresh token for an access token (form-encoded)', subject: 'iam.token.exchange', body: IamWire.TokenRequest, bodyTypes: ['application/x-www-form-urlencoded', 'application/json'] })
  token(@Body() body: unknown): Promise<ResponseOf<'iam.token.exchange'>> {
    return this.rpc.send('iam.token.exchange', requestFor('iam.token.exchange', objectBody(body)));
  }

  @Get('identity/keys')
  @Public()
  @Operation({ summary: 'JWKS: public keys that verify access tokens', subject: 'iam.jwks.get' })
  keys(): Promise<ResponseOf<'iam.jwks.get'>> {
    return this.rpc.send('iam.jwks.get', {});
  }

  // ---- service IDs ----
  @Post('v1/serviceids')
  @Authenticated('iam-identity.serviceid.create')
  @HttpCode(201)
  @Operation({ summary: 'Create a service ID', subject: 'iam.serviceid.create' })
  createServiceId(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.serviceid.create'>> {
    return this.rpc.send('iam.serviceid.create', requestFor('iam.serviceid.create', objectBody(body)), { caller });
  }

  @Get('v1/serviceids')
  @Authenticated('iam-identity.serviceid.list')
  @Operation({ summary: 'List service IDs', subject: 'iam.serviceid.list', query: Subjects['iam.serviceid.list'].request })
  listServiceIds(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.serviceid.list'>> {
    return this.rpc.send('iam.serviceid.list', requestFor('iam.serviceid.list', query), { caller });
  }

  @Get('v1/serviceids/:id')
  @Authenticated('iam-identity.serviceid.read')
  @Operation({ summary: 'Get a service ID', subject: 'iam.serviceid.get', responseHeaders: ['ETag'] })
  async getServiceId(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.serviceid.get'>> {
    const serviceId = await this.rpc.send('iam.serviceid.get', { id }, { caller });
    reply.header('etag', serviceId.entity_tag);
    return serviceId;
  }

  @Delete('v1/serviceids/:id')
  @Authenticated('iam-identity.serviceid.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete a service ID and its API keys', subject: 'iam.serviceid.delete' })
  async deleteServiceId(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.serviceid.delete', { id }, { caller });
  }

  // ---- API keys ----
  @Post('v1/apikeys')
  @Authenticated('iam-identity.apikey.create')
  @HttpCode(201)
  @Operation({ summary: 'Create an API key; its value is returned once', subject: 'iam.apikey.create', body: requestBody('iam.apikey.create', 'entity_lock') })
  createApiKey(
    @Body() body: unknown,
    @Headers('entity-lock') entityLock: string | undefined,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'iam.apikey.create'>> {
    const request = { ...objectBody(body), ...(entityLock === 'true' ? { entity_lock: true } : {}) };
    return this.rpc.send('iam.apikey.create', requestFor('iam.apikey.create', request), { caller });
  }

  @Get('v1/apikeys')
  @Authenticated('iam-identity.apikey.list')
  @Operation({ summary: 'List API keys', subject: 'iam.apikey.list', query: Subjects['iam.apikey.list'].request })
  listApiKeys(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.apikey.list'>> {
    return this.rpc.send('iam.apikey.list', requestFor('iam.apikey.list', query), { caller });
  }

  @Get('v1/apikeys/details')
  @Authenticated('iam-identity.apikey.read')
  @Operation({ summary: 'Get the API key whose value is in the IAM-ApiKey header', subject: 'iam.apikey.details' })
  apiKeyDetails(@Headers('iam-apikey') value: string | undefined, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.apikey.details'>> {
    return this.rpc.send('iam.apikey.details', requestFor('iam.apikey.details', { apikey: value ?? '' }), { caller });
  }

  @Get('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.read')
  @Operation({ summary: 'Get an API key', subject: 'iam.apikey.get', responseHeaders: ['ETag'] })
  async getApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.apikey.get'>> {
    const key = await this.rpc.send('iam.apikey.get', { id }, { caller });
    reply.header('etag', key.entity_tag);
    return key;
  }

  @Put('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.update')
  @Operation({ summary: 'Update an API key (If-Match: its entity_tag)', subject: 'iam.apikey.update', body: requestBody('iam.apikey.update', 'id', 'if_match'), responseHeaders: ['ETag'] })
  async updateApiKey(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<ResponseOf<'iam.apikey.update'>> {
    const request = requestFor('iam.apikey.update', { ...objectBody(body), id, if_match: ifMatch ?? '' });
    const key = await this.rpc.send('iam.apikey.update', request, { caller });
    reply.header('etag', key.entity_tag);
    return key;
  }

  @Post('v1/apikeys/:id/lock')
  @Authenticated('iam-identity.apikey.lock')
  @HttpCode(204)
  @Operation({ summary: 'Lock an API key', subject: 'iam.apikey.lock' })
  async lockApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.lock', { id }, { caller });
  }

  @Delete('v1/apikeys/:id/lock')
  @Authenticated('iam-identity.apikey.lock')
  @HttpCode(204)
  @Operation({ summary: 'Unlock an API key', subject: 'iam.apikey.unlock' })
  async unlockApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.unlock', { id }, { caller });
  }

  @Delete('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete an API key', subject: 'iam.apikey.delete' })
  async deleteApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.delete', { id }, { caller });
  }
}

/**
 * Accounts and their identity settings. `/v1/accounts` (create, list) is Sealbox's own, for platform
 * operators (iam decides who is one); the settings are IBM's (`getAccountSettings`/`updateAccountSettings`).
 */
@Tag('IAM Identity', { account_id: 'The id of the account' })
@Controller()
export class AccountRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v1/accounts')
  @Authenticated('iam-identity.account.create')
  @HttpCode(201)
  @Operation({ summary: 'Create an account with its first administrator (platform operators); the administrator API key is returned once', subject: 'iam.account.create', body: Subjects['iam.account.create'].request })
  createAccount(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.account.create'>> {
    return this.rpc.send('iam.account.create', requestFor('iam.account.create', objectBody(body)), { caller });
  }

  @Get('v1/accounts')
  @Authenticated('iam-identity.account.list')
  @Operation({ summary: 'List the accounts (platform operators)', subject: 'iam.account.list', query: Subjects['iam.account.list'].request })
  listAccounts(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.account.list'>> {
    return this.rpc.send('iam.account.list', requestFor('iam.account.list', query), { caller });
  }

  @Get('v1/accounts/:account_id/settings/identity')
  @Authenticated('iam-identity.account-settings.read')
  @Operation({ summary: "Get an account's identity settings (ETag for update)", subject: 'iam.account-settings.get', responseHeaders: ['ETag'] })
  async getSettings(
    @Param('account_id') accountId: string,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<ResponseOf<'iam.account-settings.get'>> {
    const settings = await this.rpc.send('iam.account-settings.get', requestFor('iam.account-settings.get', { account_id: accountId }), { caller });
    reply.header('etag', settings.entity_tag);
    return settings;
  }

  @Put('v1/accounts/:account_id/settings/identity')
  @Authenticated('iam-identity.account-settings.update')
  @Operation({
    summary: "Change who may create API keys in an account (If-Match: the settings' entity_tag)",
    subject: 'iam.account-settings.update',
    body: requestBody('iam.account-settings.update', 'account_id', 'if_match'),
    responseHeaders: ['ETag'],
  })
  async updateSettings(
    @Param('account_id') accountId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<ResponseOf<'iam.account-settings.update'>> {
    const request = requestFor('iam.account-settings.update', { ...objectBody(body), account_id: accountId, if_match: ifMatch ?? '' });
    const settings = await this.rpc.send('iam.account-settings.update', request, { caller });
    reply.header('etag', settings.entity_tag);
    return settings;
  }
}

/** IBM User Management: the users of an account (users sign in with API keys: an invitation returns the first one). */
@Tag('User Management', { account_id: 'The id of the account', iam_id: 'The IAM ID of the user' })
@Controller()
export class UserRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v2/accounts/:account_id/users')
  @Authenticated('user-management.user.invite')
  @HttpCode(202)
  @Operation({ summary: "Add users to the account; each one's first API key is returned once", subject: 'iam.user.invite', body: requestBody('iam.user.invite', 'account_id') })
  invite(@Param('account_id') accountId: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.user.invite'>> {
    return this.rpc.send('iam.user.invite', requestFor('iam.user.invite', { ...objectBody(body), account_id: accountId }), { caller });
  }

  @Get('v2/accounts/:account_id/users')
  @Authenticated('user-management.user.list')
  @Operation({ summary: 'List the users of the account', subject: 'iam.user.list', query: requestBody('iam.user.list', 'account_id') })
  list(
    @Param('account_id') accountId: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'iam.user.list'>> {
    return this.rpc.send('iam.user.list', requestFor('iam.user.list', { ...query, account_id: accountId }), { caller });
  }

  @Get('v2/accounts/:account_id/users/:iam_id')
  @Authenticated('user-management.user.read')
  @Operation({ summary: 'Get a user of the account', subject: 'iam.user.get' })
  get(@Param('account_id') accountId: string, @Param('iam_id') iamId: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.user.get'>> {
    return this.rpc.send('iam.user.get', requestFor('iam.user.get', { account_id: accountId, iam_id: iamId }), { caller });
  }

  @Delete('v2/accounts/:account_id/users/:iam_id')
  @Authenticated('user-management.user.remove')
  @HttpCode(204)
  @Operation({ summary: 'Remove a user: its API keys and policies are deleted and its access tokens revoked', subject: 'iam.user.remove', response: null })
  async remove(@Param('account_id') accountId: string, @Param('iam_id') iamId: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.user.remove', requestFor('iam.user.remove', { account_id: accountId, iam_id: iamId }), { caller });
  }
}

/** IAM Policy Management: access and authorization policies, roles. */
@Tag('IAM Policy Management', { id: 'The id of the policy' })
@Controller()
export class PolicyRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v1/policies')
  @Authenticated('iam-access-management.policy.create')
  @HttpCode(201)
  @Operation({ summary: 'Create an access or authorization policy', subject: 'iam.policy.create', responseHeaders: ['ETag'] })
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.policy.create'>> {
    const policy = await this.rpc.send('iam.policy.create', requestFor('iam.policy.create', objectBody(body)), { caller });
    reply.header('etag', policy.etag);
    return policy;
  }

  @Get('v1/policies')
  @Authenticated('iam-access-management.policy.list')
  @Operation({ summary: 'List the policies of an account', subject: 'iam.policy.list', query: Subjects['iam.policy.list'].request })
  list(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.policy.list'>> {
    return this.rpc.send('iam.policy.list', requestFor('iam.policy.list', query), { caller });
  }

  @Get('v1/policies/:id')
  @Authenticated('iam-access-management.policy.read')
  @Operation({ summary: 'Get a policy (ETag for replace)', subject: 'iam.policy.get', responseHeaders: ['ETag'] })
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.policy.get'>> {
    const policy = await this.rpc.send('iam.policy.get', { id }, { caller });
    reply.header('etag', policy.etag);
    return policy;
  }

  @Put('v1/policies/:id')
  @Authenticated('iam-access-management.policy.update')
  @Operation({ summary: 'Replace a policy (If-Match: its ETag)', subject: 'iam.policy.replace', body: requestBody('iam.policy.replace', 'id', 'if_match'), responseHeaders: ['ETag'] })
  async replace(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<ResponseOf<'iam.policy.replace'>> {
    const request = requestFor('iam.policy.replace', { ...objectBody(body), id, if_match: ifMatch ?? '' });
    const policy = await this.rpc.send('iam.policy.replace', request, { caller });
    reply.header('etag', policy.etag);
    return policy;
  }

  @Delete('v1/policies/:id')
  @Authenticated('iam-access-management.policy.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete a policy', subject: 'iam.policy.delete' })
  async delete(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.policy.delete', { id }, { caller });
  }

  @Get('v2/roles')
  @RequiresAction('iam-access-management.role.list', () => ({ serviceName: 'iam-access-management' }))
  @Operation({ summary: 'List roles and the actions they grant', subject: 'iam.role.list', query: Subjects['iam.role.list'].request })
  roles(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.role.list'>> {
    return this.rpc.send('iam.role.list', requestFor('iam.role.list', query), { caller });
  }
}
