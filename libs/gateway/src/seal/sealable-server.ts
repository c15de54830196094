import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { listen, sealedError, serviceUnavailable, type Clock, type HttpOptions, type KeyProtector, type SealKeeper } from '@sealbox/platform';
import type { Server } from 'node:net';
import type { Logger } from 'pino';
import type { RateLimit } from '../auth/rate-limiter.js';
import type { SealControl } from './seal-control.js';
import type { RotateResponse, SealSecretRequest, SealSecretResponse, SealStatus, UnsealRequest } from './seal.wire.js';
import { createSealedApp } from './sealed-app.js';

export interface SealableServerOptions {
  readonly keeper: SealKeeper;
  readonly http: HttpOptions;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly rateLimitPerIp: RateLimit;
  /**
   * The full API over the unsealed key store (`protector`), created and ready but not listening.
   * `afterResponse` must be added as a Fastify onResponse hook (a seal is carried out once its
   * request is answered).
   */
  readonly unsealedApp: (protector: KeyProtector, control: SealControl, afterResponse: () => void) => Promise<NestFastifyApplication>;
  /** Rotate the soft HSM master key with the unsealed key store; answers how many keys were re-wrapped. */
  readonly rotateMasterKey: (protector: KeyProtector) => Promise<number>;
  /** Called once the server stops for good (not on a seal or unseal switch). */
  readonly onStopped?: () => void;
}

/**
 * One HTTP address, two apps: while the key store is sealed, the sealed app (health, readiness 503,
 * the seal endpoints, 503 SEALED for the rest); once unsealed, the full API built with the key
 * store's protector. Unseal builds the full app first, answers, then switches; seal answers, closes
 * the full app (every module drops its keys: HSM key material, DEK caches, signing keys) and puts
 * the sealed app back on the same port.
 */
export class SealableServer implements SealControl {
  private current: NestFastifyApplication | undefined;
  private currentSealed = true;
  private pending: (() => Promise<void>) | undefined;
  private switching = false;
  private stopped = false;
  private http: HttpOptions;
  private address = '';

  constructor(private readonly options: SealableServerOptions) {
    this.http = options.http;
  }

  /** The app answering now (the sealed one or the full API). */
  get app(): NestFastifyApplication {
    if (!this.current) throw new Error('The server is not started');
    return this.current;
  }

  get url(): string {
    return this.address;
  }

  get sealed(): boolean {
    return this.options.keeper.sealed;
  }

  /** Listen with the app the key store's state calls for. */
  async start(): Promise<string> {
    const keeper = this.options.keeper;
    const app = keeper.sealed ? await this.sealedApp() : await this.options.unsealedApp(keeper.protector(), this, () => this.runPending());
    this.current = app;
    this.currentSealed = keeper.sealed;
    try {
      await this.listenWith(app);
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    return this.address;
  }

  async close(): Promise<void> {
    this.pending = undefined;
    await this.current?.close();
  }

  status(): SealStatus {
    return this.options.keeper.status();
  }

  async initialize(request: SealSecretRequest): Promise<SealSecretResponse> {
    const { type, ...init } = request;
    const { handout } = await this.options.keeper.initialize(type, init);
    this.options.logger.warn({ type }, 'seal: the key store was initialised; it stays sealed until unsealed');
    return { type, keys: [...handout] };
  }

  async unseal(request: UnsealRequest): Promise<SealStatus> {
    const keeper = this.options.keeper;
    if ('reset' in request) {
      keeper.resetProgress();
      return keeper.status();
    }
    const wasSealed = keeper.sealed;
    // No key: an auto-unseal (PKCS#11) store asks its token again; any other kind refuses (UNSEAL_FAILED).
    const status = 'key' in request ? await keeper.unseal(request.key) : await keeper.autoUnseal();
    if (wasSealed && !status.sealed && this.currentSealed) {
      let full: NestFastifyApplication;
      try {
        full = await this.options.unsealedApp(keeper.protector(), this, () => this.runPending());
      } catch (error) {
        keeper.seal();
        this.options.logger.error({ err: error }, 'seal: the key store opened but the services failed to start; sealed again');
        throw serviceUnavailable('The key store opened but the services failed to start (see the log); it is sealed again');
      }
      this.pending = () => this.replace(full, false);
      this.options.logger.warn('seal: unsealed');
    }
    return status;
  }

  async seal(): Promise<void> {
    if (this.currentSealed) return;
    this.options.keeper.seal();
    this.options.logger.warn('seal: sealed on request; every key is dropped from memory');
    this.pending = async () => this.replace(await this.sealedApp(), true);
  }

  rekey(request: SealSecretRequest): Promise<SealSecretResponse> {
    const { type, ...init } = request;
    return this.options.keeper.rekey(type, init).then(({ handout }) => {
      this.options.logger.warn({ type }, 'seal: the unseal secret was changed (rekey)');
      return { type, keys: [...handout] };
    });
  }

  async rotateMasterKey(): Promise<RotateResponse> {
    if (this.options.keeper.sealed) throw sealedError();
    const rewrapped = await this.options.rotateMasterKey(this.options.keeper.protector());
    this.options.logger.warn({ rewrapped }, 'seal: the soft HSM master key was rotated');
    return { rewrapped };
  }

  private sealedApp(): Promise<NestFastifyApplication> {
    const { http, logger, clock, rateLimitPerIp } = this.options;
    return createSealedApp({ http, logger, control: this, clock, rateLimitPerIp, afterResponse: () => this.runPending() });
  }

  /** Run the switch a request asked for, once that request is answered. */
  private runPending(): void {
    const run = this.pending;
    this.pending = undefined;
    if (!run) return;
    run().catch((error: unknown) => this.options.logger.error({ err: error }, 'seal: switching the HTTP app failed'));
  }

  private async replace(next: NestFastifyApplication, sealed: boolean): Promise<void> {
    this.switching = true;
    try {
      await this.current?.close();
      this.current = next;
      this.currentSealed = sealed;
      await this.listenWith(next);
    } finally {
      this.switching = false;
    }
  }

  private async listenWith(app: NestFastifyApplication): Promise<void> {
    this.address = await listen(app, this.http);
    const bound = (app.getHttpServer() as Server).address();
    // Port 0: the next app takes the port the first one got.
    if (typeof bound === 'object' && bound) this.http = { ...this.http, port: bound.port };
    app.getHttpServer().once('close', () => {
      if (this.switching || this.stopped) return;
      this.stopped = true;
      this.options.onStopped?.();
    });
  }
}
