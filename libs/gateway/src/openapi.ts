import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SEALBOX_VERSION } from '@sealbox/platform';

/** OpenAPI 3 document at `/openapi.json` and the docs UI at `/docs`, served from local assets. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Sealbox')
    .setDescription(
      'Secrets manager with customer-managed keys. Wire-compatible with IBM Cloud Secrets Manager v2, Key Protect v2, Resource Controller and IAM.',
    )
    .setVersion(SEALBOX_VERSION)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}
