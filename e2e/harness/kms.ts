import { connectNats } from './infra.js';
import IbmKeyProtectApiV2 from '@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { KmsWire, Subjects, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import { DomainError, requestOverNats } from '@sealbox/platform';
import { constants, createCipheriv, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { StackInfo } from './stack.js';

/**
 * Helpers for the Key Protect, HPCS and envelope e2e tests: raw Nest-format requests over NATS (KMS
 * instances are made by lifecycle later; until then tests create them with `kms.instance.create`),
 * the official Key Protect 0.1.2 client pointed at the gateway, its failures, and what a Key Protect
 * client computes for a secure import.
 */

// ---- NATS (Nest request format) ---------------------------------------------------------------

/** A Nest RPC error as it travels back: `{err: {code, message, ...}}`. */
const WireErr = z.object({ code: z.string(), message: z.string() });
export type WireFailure = z.infer<typeof WireErr>;

export type NatsReply<S extends Subject> = { readonly ok: true; readonly value: ResponseOf<S> } | { readonly ok: false; readonly error: WireFailure };

/**
 * One connection of a test file to the stack's NATS, sending requests as any Nest client does:
 * `{pattern, data, id}` on the subject, answered `{response}` or `{err}`. No caller header: these are
 * the service-to-service subjects (kms instances, crypto envelopes).
 */
export class NatsCaller {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  static async open(stack: Pick<StackInfo, 'nats' | 'rpcTimeoutMs'>): Promise<NatsCaller> {
    const connection = await connectNats(stack.nats);
    return new NatsCaller(connection, stack.rpcTimeoutMs + 2_000);
  }

  /** The reply, its response validated against the subject's registry schema; `traceparent` continues a trace. */
  async call<S extends Subject>(subject: S, data: RequestOf<S>, options: { readonly traceparent?: string } = {}): Promise<NatsReply<S>> {
    let response: ResponseOf<S>;
    try {
      response = await requestOverNats(this.connection, subject, data, this.timeoutMs, options.traceparent ? { traceparent: options.traceparent } : {});
    } catch (error) {
      if (error instanceof DomainError) return { ok: false, error: WireErr.parse(error.toWire()) };
      throw error;
    }
    const definition: (typeof Subjects)[S] = Subjects[subject];
    return { ok: true, value: definition.response.parse(response) as ResponseOf<S> };
  }

  /** The response, or a failure naming the error (for setup steps that must work). */
  async expectOk<S extends Subject>(subject: S, data: RequestOf<S>): Promise<ResponseOf<S>> {
    const reply = await this.call(subject, data);
    if (!reply.ok) throw new Error(`e2e: ${subject} failed: ${reply.error.code} ${reply.error.message}`);
    return reply.value;
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

export type KmsServiceName = 'kms' | 'hs-crypto';

/** A new KMS instance of `accountId` (kms.instance.create over NATS); its GUID. */
export async function createKmsInstance(
  nats: NatsCaller,
  accountId: string,
  serviceName: KmsServiceName,
  options: { readonly threshold?: number } = {},
): Promise<ResponseOf<'kms.instance.create'>> {
  return nats.expectOk('kms.instance.create', {
    accountId,
    instanceId: randomUUID(),
    serviceName,
    region: 'us-south',
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  });
}

// ---- the official Key Protect client -----------------------------------------------------------

/** What both core 2 (KP 0.1.2) and core 5 authenticators provide (they are duck-typed). */
type Authenticator = ConstructorParameters<typeof IbmKeyProtectApiV2>[0]['authenticator'];

/** The official client, unchanged, with its serviceUrl at the gateway's `/kms` (it adds `/api/v2/...`). */
export function keyProtectClient(gatewayUrl: string, authenticator: Authenticator): IbmKeyProtectApiV2 {
  return new IbmKeyProtectApiV2({ authenticator, serviceUrl: `${gatewayUrl}/kms` });
}

/** A request body for the client: its body parameters are typed `Buffer | ReadableStream`. */
export const jsonBody = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** The body of createKey for one root key. */
export function keyCreateBody(resource: Record<string, unknown>): Buffer {
  return jsonBody({
    metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 },
    resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, extractable: false, ...resource }],
  });
}

/** The body of putPolicy for one key policy. */
export function keyPolicyBody(policy: { readonly dualAuthDelete: { readonly enabled: boolean } } | { readonly rotation: { readonly interval_month: number } }) {
  return {
    metadata: { collectionType: KmsWire.POLICY_COLLECTION_TYPE, collectionTotal: 1 },
    resources: [{ type: KmsWire.POLICY_COLLECTION_TYPE, ...policy }],
  };
}

/** The whole body of a stream (restoreKey's result, which the client reads with responseType stream). */
export async function readStream(stream: NodeJS.ReadableStream | Buffer): Promise<string> {
  if (Buffer.isBuffer(stream)) return stream.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

const IbmErrorBody = z.object({ errors: z.array(z.object({ code: z.string(), message: z.string() })).min(1) });

export interface KpFailure {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/**
 * How the 0.1.2 client (core 2.17) rejected: `err.status`, and the IBM error body in `err.body` (a
 * JSON string; a stream when the call read its answer as one, like restoreKey). The message of 401/403
 * is rewritten by the client, so the code is read from the body.
 */
async function failureOf(error: unknown): Promise<KpFailure> {
  if (typeof error !== 'object' || error === null) throw error;
  const status = 'status' in error && typeof error.status === 'number' ? error.status : undefined;
  const raw: unknown = 'body' in error ? error.body : undefined;
  let text: string | undefined;
  if (typeof raw === 'string') text = raw;
  else if (raw instanceof Readable) text = await readStream(raw);
  let parsed: z.infer<typeof IbmErrorBody> | undefined;
  if (text !== undefined) {
    try {
      const body: unknown = JSON.parse(text);
      // The client stringifies the body it parsed; a stream answer may be one JSON level deep.
      const result = IbmErrorBody.safeParse(typeof body === 'string' ? JSON.parse(body) : body);
      parsed = result.success ? result.data : undefined;
    } catch {
      parsed = undefined;
    }
  }
  return { status, code: parsed?.errors[0]?.code, message: parsed?.errors[0]?.message };
}

/** The failure of a client call; fails when the call succeeds. */
export async function kpFailure(call: Promise<unknown>): Promise<KpFailure> {
  try {
    await call;
  } catch (error: unknown) {
    return failureOf(error);
  }
  throw new Error('expected the Key Protect client call to fail, but it succeeded');
}

/** `{status, code}` of a failure, for `toEqual`. */
export const statusAndCode = (failure: KpFailure) => ({ status: failure.status, code: failure.code });

// ---- secure import (what a Key Protect client computes) ----------------------------------------

/**
 * Key Protect "secure import" with an import token: the 32-byte key material RSA-OAEP(SHA-256)
 * encrypted with the token's public key (`payload`), and the token's nonce AES-256-GCM encrypted
 * under the material (`encryptedNonce` = ciphertext ‖ 16-byte tag, with its 12-byte `iv`).
 * `token.payload` is base64 of the PEM public key, `token.nonce` base64.
 */
export function secureImport(material: Buffer, token: { readonly payload: string; readonly nonce: string }, nonceKey: Buffer = material) {
  const publicKeyPem = Buffer.from(token.payload, 'base64').toString('utf8');
  const payload = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', nonceKey, iv);
  const sealed = Buffer.concat([cipher.update(Buffer.from(token.nonce, 'base64')), cipher.final(), cipher.getAuthTag()]);
  return {
    payload: payload.toString('base64'),
    encryptedNonce: sealed.toString('base64'),
    iv: iv.toString('base64'),
    encryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const,
  };
}

/** `value` (base64) with one bit flipped in byte `index`. */
export function flipBit(value: string, index: number, bit = index % 8): string {
  const bytes = Buffer.from(value, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ (1 << bit);
  return bytes.toString('base64');
}
