import { Injectable } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { notImplemented } from '@sealbox/platform';
import { ApiKeyVerifier, type Principal, type VerifiedApiKey } from '../ports.js';

/** Accounts, service IDs and API keys. */
@Injectable()
export class IdentityService extends ApiKeyVerifier {
  async verify(_value: string): Promise<VerifiedApiKey> {
    throw notImplemented('API key verification');
  }

  async current(_apikeyId: string): Promise<VerifiedApiKey> {
    throw notImplemented('API key verification');
  }

  async createAccount(_request: ValidatedRequestOf<'iam.account.create'>): Promise<ResponseOf<'iam.account.create'>> {
    throw notImplemented('iam.account.create');
  }

  async createServiceId(_caller: Principal, _request: ValidatedRequestOf<'iam.serviceid.create'>): Promise<ResponseOf<'iam.serviceid.create'>> {
    throw notImplemented('iam.serviceid.create');
  }

  async listServiceIds(_caller: Principal, _request: ValidatedRequestOf<'iam.serviceid.list'>): Promise<ResponseOf<'iam.serviceid.list'>> {
    throw notImplemented('iam.serviceid.list');
  }

  async getServiceId(_caller: Principal, _id: string): Promise<ResponseOf<'iam.serviceid.get'>> {
    throw notImplemented('iam.serviceid.get');
  }

  async deleteServiceId(_caller: Principal, _id: string): Promise<void> {
    throw notImplemented('iam.serviceid.delete');
  }

  async createApiKey(_caller: Principal, _request: ValidatedRequestOf<'iam.apikey.create'>): Promise<ResponseOf<'iam.apikey.create'>> {
    throw notImplemented('iam.apikey.create');
  }

  async listApiKeys(_caller: Principal, _request: ValidatedRequestOf<'iam.apikey.list'>): Promise<ResponseOf<'iam.apikey.list'>> {
    throw notImplemented('iam.apikey.list');
  }

  async getApiKey(_caller: Principal, _id: string): Promise<ResponseOf<'iam.apikey.get'>> {
    throw notImplemented('iam.apikey.get');
  }

  async apiKeyDetails(_caller: Principal, _value: string): Promise<ResponseOf<'iam.apikey.details'>> {
    throw notImplemented('iam.apikey.details');
  }

  async updateApiKey(_caller: Principal, _request: ValidatedRequestOf<'iam.apikey.update'>): Promise<ResponseOf<'iam.apikey.update'>> {
    throw notImplemented('iam.apikey.update');
  }

  async lockApiKey(_caller: Principal, _id: string, _locked: boolean): Promise<void> {
    throw notImplemented('iam.apikey.lock');
  }

  async deleteApiKey(_caller: Principal, _id: string): Promise<void> {
    throw notImplemented('iam.apikey.delete');
  }
}
