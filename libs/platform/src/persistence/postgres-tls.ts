import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { z } from 'zod';
import type { DatabaseSettings } from '../config/fragments.js';
import { ConfigError } from '../config/loader.js';
import type { DatabaseConfig } from './database.js';

export type PostgresTlsMode = 'require' | 'verify-full';

interface PostgresTlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/**
 * TLS to PostgreSQL, with its files read once at start. `verify-full` checks the server certificate
 * against the CA (Node's public CAs without one) and the URL's host against the certificate's names;
 * `require` only encrypts. The private key stays out of JSON and `inspect` (logs show the file paths).
 */
export class PostgresTls {
  readonly #ca: string | undefined;
  readonly #cert: string | undefined;
  readonly #key: string | undefined;

  constructor(
    readonly mode: PostgresTlsMode,
    readonly files: PostgresTlsFiles,
    pem: { readonly ca?: string; readonly cert?: string; readonly key?: string },
  ) {
    this.#ca = pem.ca;
    this.#cert = pem.cert;
    this.#key = pem.key;
  }

  /** node-postgres's `ssl` option (Node's TLS options: TLS 1.2 at least, Node's default). */
  connectionOptions(): { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string } {
    return {
      rejectUnauthorized: this.mode === 'verify-full',
      ...(this.#ca ? { ca: this.#ca } : {}),
      ...(this.#cert && this.#key ? { cert: this.#cert, key: this.#key } : {}),
    };
  }

  toJSON(): { mode: PostgresTlsMode } & PostgresTlsFiles {
    return { mode: this.mode, ...this.files };
  }

  [inspect.custom](): string {
    return `PostgresTls ${JSON.stringify(this.toJSON())}`;
  }
}

type Settings = z.output<z.ZodObject<typeof DatabaseSettings>>;

/** Connection parameters of a URL that node-postgres would apply over the `ssl` option. */
const URL_TLS_PARAMETERS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation', 'uselibpqcompat'];

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

/**
 * A service's PostgreSQL settings (SEALBOX_DATABASE_URL and SEALBOX_DATABASE_TLS_*) as its database
 * config, the TLS files read now. Throws ConfigError (exit 78 at start) naming the setting when a file
 * cannot be read, a certificate comes without its key (or the reverse), a CA is given where it would
 * not be checked, or the URL sets TLS parameters of its own next to these settings.
 */
export function postgresConfigOf(config: Settings): Extract<DatabaseConfig, { type: 'postgres' }> {
  const { SEALBOX_DATABASE_TLS_CA_FILE: caFile, SEALBOX_DATABASE_TLS_CERT_FILE: certFile, SEALBOX_DATABASE_TLS_KEY_FILE: keyFile } = config;
  const url = config.SEALBOX_DATABASE_URL;
  const anyFile = Boolean(caFile || certFile || keyFile);
  const mode = config.SEALBOX_DATABASE_TLS_MODE ?? (anyFile ? 'verify-full' : 'disable');
  const problems: string[] = [];
  if (Boolean(certFile) !== Boolean(keyFile)) {
    problems.push(certFile ? 'SEALBOX_DATABASE_TLS_KEY_FILE: is required with SEALBOX_DATABASE_TLS_CERT_FILE' : 'SEALBOX_DATABASE_TLS_CERT_FILE: is required with SEALBOX_DATABASE_TLS_KEY_FILE');
  }
  if (mode === 'disable' && anyFile) {
    problems.push('SEALBOX_DATABASE_TLS_MODE: is disable while SEALBOX_DATABASE_TLS_*_FILE settings are set; set verify-full, or remove the files');
  }
  if (mode === 'require' && caFile) {
    problems.push('SEALBOX_DATABASE_TLS_CA_FILE: is checked only with SEALBOX_DATABASE_TLS_MODE=verify-full (require does not check the server certificate)');
  }
  if (config.SEALBOX_DATABASE_TLS_MODE !== undefined || anyFile) {
    const inUrl = URL_TLS_PARAMETERS.filter((name) => URL.canParse(url) && new URL(url).searchParams.has(name));
    if (inUrl.length) {
      problems.push(`SEALBOX_DATABASE_URL: its ${inUrl.join(', ')} parameter would override SEALBOX_DATABASE_TLS_*; remove it from the URL`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  if (mode === 'disable') return { type: 'postgres', url };
  const pem = {
    ...(caFile ? { ca: readPem(caFile, 'SEALBOX_DATABASE_TLS_CA_FILE') } : {}),
    ...(certFile ? { cert: readPem(certFile, 'SEALBOX_DATABASE_TLS_CERT_FILE') } : {}),
    ...(keyFile ? { key: readPem(keyFile, 'SEALBOX_DATABASE_TLS_KEY_FILE') } : {}),
  };
  return { type: 'postgres', url, tls: new PostgresTls(mode, { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) }, pem) };
}

const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A failure to connect over TLS, said as the operator can fix it (the driver's own message names
 * neither the setting nor the server); undefined for any other error.
 */
export function postgresTlsError(error: unknown, tls: PostgresTls | undefined): Error | undefined {
  if (!tls) return undefined;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    const what = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'does not name the host of SEALBOX_DATABASE_URL' : 'is not signed by a trusted CA';
    return new Error(
      `PostgreSQL TLS: the server certificate ${what} (${code}: ${message}); check SEALBOX_DATABASE_TLS_CA_FILE${tls.files.caFile ? ` (${tls.files.caFile})` : ''} and the URL's host`,
      { cause: error },
    );
  }
  if (/server does not support SSL/i.test(message)) {
    return new Error('PostgreSQL TLS: the server does not accept TLS connections (ssl = off); turn TLS on there, or set SEALBOX_DATABASE_TLS_MODE=disable', { cause: error });
  }
  return undefined;
}
