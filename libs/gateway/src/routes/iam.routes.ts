import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResponseOf } from '@sealbox/contracts';
import { RpcClient, type Caller } from '@sealbox/platform';
import { Authenticated, CurrentCaller, Public, RequiresAction } from '../auth/access.decorators.js';
import { objectBody, requestFor } from './body.js';

/** The one reply method routes use, to set ETag. */
export interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** IAM at the root, as iam.cloud.ibm.com serves it: tokens, service IDs, API keys. */
@ApiTags('IAM Identity')
@Controller()
export class IamRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('identity/token')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange an API key or refresh token for an access token (form-encoded)' })
  token(@Body() body: unknown): Promise<ResponseOf<'iam.token.exchange'>> {
    return this.rpc.send('iam.token.exchange', requestFor('iam.token.exchange', objectBody(body)));
  }

  @Get('identity/keys')
  @Public()
  @ApiOperation({ summary: 'JWKS: public keys that verify access tokens' })
  keys(): Promise<ResponseOf<'iam.jwks.get'>> {
    return this.rpc.send('iam.jwks.get', {});
  }

  // ---- service IDs ----
  @Post('v1/serviceids')
  @Authenticated('iam-identity.serviceid.create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a service ID' })
  createServiceId(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.serviceid.create'>> {
    return this.rpc.send('iam.serviceid.create', requestFor('iam.serviceid.create', objectBody(body)), { caller });
  }

  @Get('v1/serviceids')
  @Authenticated('iam-identity.serviceid.list')
  @ApiOperation({ summary: 'List service IDs' })
  listServiceIds(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.serviceid.list'>> {
    return this.rpc.send('iam.serviceid.list', requestFor('iam.serviceid.list', query), { caller });
  }

  @Get('v1/serviceids/:id')
  @Authenticated('iam-identity.serviceid.read')
  @ApiOperation({ summary: 'Get a service ID' })
  async getServiceId(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.serviceid.get'>> {
    const serviceId = await this.rpc.send('iam.serviceid.get', { id }, { caller });
    reply.header('etag', serviceId.entity_tag);
    return serviceId;
  }

  @Delete('v1/serviceids/:id')
  @Authenticated('iam-identity.serviceid.delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a service ID and its API keys' })
  async deleteServiceId(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.serviceid.delete', { id }, { caller });
  }

  // ---- API keys ----
  @Post('v1/apikeys')
  @Authenticated('iam-identity.apikey.create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key; its value is returned once' })
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
  @ApiOperation({ summary: 'List API keys' })
  listApiKeys(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.apikey.list'>> {
    return this.rpc.send('iam.apikey.list', requestFor('iam.apikey.list', query), { caller });
  }

  @Get('v1/apikeys/details')
  @Authenticated('iam-identity.apikey.read')
  @ApiOperation({ summary: 'Get the API key whose value is in the IAM-ApiKey header' })
  apiKeyDetails(@Headers('iam-apikey') value: string | undefined, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.apikey.details'>> {
    return this.rpc.send('iam.apikey.details', requestFor('iam.apikey.details', { apikey: value ?? '' }), { caller });
  }

  @Get('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.read')
  @ApiOperation({ summary: 'Get an API key' })
  async getApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.apikey.get'>> {
    const key = await this.rpc.send('iam.apikey.get', { id }, { caller });
    reply.header('etag', key.entity_tag);
    return key;
  }

  @Put('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.update')
  @ApiOperation({ summary: 'Update an API key (If-Match: its entity_tag)' })
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
  @ApiOperation({ summary: 'Lock an API key' })
  async lockApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.lock', { id }, { caller });
  }

  @Delete('v1/apikeys/:id/lock')
  @Authenticated('iam-identity.apikey.lock')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unlock an API key' })
  async unlockApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.unlock', { id }, { caller });
  }

  @Delete('v1/apikeys/:id')
  @Authenticated('iam-identity.apikey.delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an API key' })
  async deleteApiKey(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.apikey.delete', { id }, { caller });
  }
}

/**
 * Accounts and their identity settings. `/v1/accounts` (create, list) is Sealbox's own, for platform
 * operators (iam decides who is one); the settings are IBM's (`getAccountSettings`/`updateAccountSettings`).
 */
@ApiTags('IAM Identity')
@Controller()
export class AccountRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v1/accounts')
  @Authenticated('iam-identity.account.create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account with its first administrator (platform operators); the administrator API key is returned once' })
  createAccount(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.account.create'>> {
    return this.rpc.send('iam.account.create', requestFor('iam.account.create', objectBody(body)), { caller });
  }

  @Get('v1/accounts')
  @Authenticated('iam-identity.account.list')
  @ApiOperation({ summary: 'List the accounts (platform operators)' })
  listAccounts(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.account.list'>> {
    return this.rpc.send('iam.account.list', requestFor('iam.account.list', query), { caller });
  }

  @Get('v1/accounts/:account_id/settings/identity')
  @Authenticated('iam-identity.account-settings.read')
  @ApiOperation({ summary: "Get an account's identity settings (ETag for update)" })
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
  @ApiOperation({ summary: "Change who may create API keys in an account (If-Match: the settings' entity_tag)" })
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
@ApiTags('User Management')
@Controller()
export class UserRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v2/accounts/:account_id/users')
  @Authenticated('user-management.user.invite')
  @HttpCode(202)
  @ApiOperation({ summary: 'Add users to the account; each one\'s first API key is returned once' })
  invite(@Param('account_id') accountId: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.user.invite'>> {
    return this.rpc.send('iam.user.invite', requestFor('iam.user.invite', { ...objectBody(body), account_id: accountId }), { caller });
  }

  @Get('v2/accounts/:account_id/users')
  @Authenticated('user-management.user.list')
  @ApiOperation({ summary: 'List the users of the account' })
  list(
    @Param('account_id') accountId: string,
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'iam.user.list'>> {
    return this.rpc.send('iam.user.list', requestFor('iam.user.list', { ...query, account_id: accountId }), { caller });
  }

  @Get('v2/accounts/:account_id/users/:iam_id')
  @Authenticated('user-management.user.read')
  @ApiOperation({ summary: 'Get a user of the account' })
  get(@Param('account_id') accountId: string, @Param('iam_id') iamId: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.user.get'>> {
    return this.rpc.send('iam.user.get', requestFor('iam.user.get', { account_id: accountId, iam_id: iamId }), { caller });
  }

  @Delete('v2/accounts/:account_id/users/:iam_id')
  @Authenticated('user-management.user.remove')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a user: its API keys and policies are deleted and its access tokens revoked' })
  async remove(@Param('account_id') accountId: string, @Param('iam_id') iamId: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.user.remove', requestFor('iam.user.remove', { account_id: accountId, iam_id: iamId }), { caller });
  }
}

/** IAM Policy Management: access and authorization policies, roles. */
@ApiTags('IAM Policy Management')
@Controller()
export class PolicyRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v1/policies')
  @Authenticated('iam-access-management.policy.create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an access or authorization policy' })
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.policy.create'>> {
    const policy = await this.rpc.send('iam.policy.create', requestFor('iam.policy.create', objectBody(body)), { caller });
    reply.header('etag', policy.etag);
    return policy;
  }

  @Get('v1/policies')
  @Authenticated('iam-access-management.policy.list')
  @ApiOperation({ summary: 'List the policies of an account' })
  list(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.policy.list'>> {
    return this.rpc.send('iam.policy.list', requestFor('iam.policy.list', query), { caller });
  }

  @Get('v1/policies/:id')
  @Authenticated('iam-access-management.policy.read')
  @ApiOperation({ summary: 'Get a policy (ETag for replace)' })
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller, @Res({ passthrough: true }) reply: HeaderReply): Promise<ResponseOf<'iam.policy.get'>> {
    const policy = await this.rpc.send('iam.policy.get', { id }, { caller });
    reply.header('etag', policy.etag);
    return policy;
  }

  @Put('v1/policies/:id')
  @Authenticated('iam-access-management.policy.update')
  @ApiOperation({ summary: 'Replace a policy (If-Match: its ETag)' })
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
  @ApiOperation({ summary: 'Delete a policy' })
  async delete(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('iam.policy.delete', { id }, { caller });
  }

  @Get('v2/roles')
  @RequiresAction('iam-access-management.role.list', () => ({ serviceName: 'iam-access-management' }))
  @ApiOperation({ summary: 'List roles and the actions they grant' })
  roles(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ResponseOf<'iam.role.list'>> {
    return this.rpc.send('iam.role.list', requestFor('iam.role.list', query), { caller });
  }
}
