import { Injectable } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { notImplemented } from '@sealbox/platform';

/** Token exchange (API key and refresh token grants), signing keys and JWKS. */
@Injectable()
export class TokenService {
  async exchange(_request: ValidatedRequestOf<'iam.token.exchange'>): Promise<ResponseOf<'iam.token.exchange'>> {
    throw notImplemented('iam.token.exchange');
  }

  async jwks(): Promise<ResponseOf<'iam.jwks.get'>> {
    throw notImplemented('iam.jwks.get');
  }

  async rotateSigningKey(): Promise<ResponseOf<'iam.signing-key.rotate'>> {
    throw notImplemented('iam.signing-key.rotate');
  }
}
