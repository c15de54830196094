export * from './nats-iam-credentials-issuer.js';
