// @ts-check
import tseslint from 'typescript-eslint';

const domainLibs = ['libs/iam', 'libs/kms', 'libs/crypto', 'libs/storage', 'libs/secrets', 'libs/lifecycle', 'libs/contracts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'data/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use node:crypto randomness.' },
      ],
    },
  },
  {
    // Domain libs know no transport: no Fastify, no HTTP exceptions, no environment reads.
    files: domainLibs.map((lib) => `${lib}/src/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@nestjs/platform-fastify', message: 'Domain libs know no HTTP server.' },
            { name: 'fastify', message: 'Domain libs know no HTTP server.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "Identifier[name=/^(HttpException|\\w+Exception)$/][name!='RpcException']", message: 'Throw a DomainError; HTTP mapping is the gateway\'s job.' },
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through the app config schema.' },
      ],
    },
  },
  {
    files: ['libs/gateway/src/**/*.ts', 'libs/platform/src/**/*.ts'],
    ignores: ['libs/platform/src/config/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through the app config schema.' },
      ],
    },
  },
);
