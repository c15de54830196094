/**
 * The e2e stack's NATS as the distributed deployment runs it: TLS with client certificates (mutual
 * TLS; a client without a certificate signed by the run's CA cannot connect), one user per app with
 * the subject permissions of docker/nats.conf (so the e2e tier proves those permissions are enough,
 * and no more than that is needed), plus one `e2e` user for the tests' own direct NATS calls.
 *
 * The certificates are made for the run (createTestPki of @sealbox/platform/testing: a P-256 CA, a
 * server certificate for 127.0.0.1/localhost, a client certificate per user) under the run's folder.
 */
import { createTestPki, testPkiAt, type TestPki } from '@sealbox/platform/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsUsers, parseNatsConf } from '../../docker/nats-conf.js';

/** How a client of the run's NATS connects: servers, its user, and its TLS files. */
export interface NatsClientOptions {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
}

export type NatsPki = TestPki;

const TEST_USER = 'e2e';

/** A CA, the server's certificate and one client certificate per name, valid two days. */
export function createNatsPki(directory: string, clients: readonly string[]): NatsPki {
  return createTestPki(directory, { caName: 'Sealbox e2e NATS CA', clients });
}

/**
 * The server's configuration (NATS reads JSON): TLS that verifies clients, JetStream in `storeDir`,
 * docker/nats.conf's users with a random password each, and the tests' own user (every subject).
 * Returns the file and every user's password.
 */
export function writeNatsTlsConfig(options: {
  readonly file: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pki: NatsPki;
  readonly root: string;
  /** The users' passwords of another node of the same cluster (every node has the same users). */
  readonly passwords?: ReadonlyMap<string, string>;
  /**
   * One node of a cluster: its name, route port and every node's route port (the routes stay on the
   * loopback, unencrypted: the run's clients all use TLS), and a monitoring port (`/connz`, `/jsz`).
   */
  readonly cluster?: { readonly serverName: string; readonly port: number; readonly routes: readonly number[]; readonly httpPort: number };
}): { readonly passwords: ReadonlyMap<string, string> } {
  const users = natsUsers(parseNatsConf(readFileSync(join(options.root, 'docker', 'nats.conf'), 'utf8')));
  const passwords =
    options.passwords ?? new Map<string, string>([...users.map((user) => user.user), TEST_USER].map((user) => [user, randomBytes(24).toString('base64url')]));
  const cluster = options.cluster;
  const config = {
    ...(cluster
      ? {
          server_name: cluster.serverName,
          http: `127.0.0.1:${cluster.httpPort}`,
          cluster: { name: 'sealbox-e2e', listen: `127.0.0.1:${cluster.port}`, routes: cluster.routes.map((port) => `nats-route://127.0.0.1:${port}`) },
        }
      : {}),
    listen: `127.0.0.1:${options.port}`,
    max_payload: 4 * 1024 * 1024,
    // As docker/nats.conf: a client that stops answering (a frozen or stopped replica) is noticed by a
    // PING every second and disconnected after 2 unanswered, or when a write to it blocks 2 s, so its
    // queue-group share goes to the other replicas within ~2-3 s.
    ping_interval: '1s',
    ping_max: 2,
    write_deadline: '2s',
    jetstream: { store_dir: options.storeDir },
    tls: { cert_file: options.pki.server.certFile, key_file: options.pki.server.keyFile, ca_file: options.pki.caFile, verify: true, timeout: 2 },
    authorization: {
      users: [
        ...users.map((user) => ({ user: user.user, password: passwords.get(user.user), permissions: user.permissions })),
        { user: TEST_USER, password: passwords.get(TEST_USER) },
      ],
    },
  };
  writeFileSync(options.file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { passwords };
}

/** The port, passwords and PKI of a configuration written before (the server is started again). */
export function readNatsTlsConfig(file: string, pkiDirectory: string): { port: number; passwords: ReadonlyMap<string, string>; pki: NatsPki } {
  const config = JSON.parse(readFileSync(file, 'utf8')) as { listen: string; authorization: { users: { user: string; password: string }[] } };
  return {
    port: Number(config.listen.split(':').at(-1)),
    passwords: new Map(config.authorization.users.map((user) => [user.user, user.password])),
    pki: testPkiAt(pkiDirectory),
  };
}

export const NATS_TEST_USER = TEST_USER;
