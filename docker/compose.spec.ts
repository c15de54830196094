/**
 * The dev stack (compose.yaml + nats.conf) against the code: every app has a service with the
 * variables its config schema requires, a healthcheck, a NATS user and (with a database) TLS to
 * PostgreSQL, and nats.conf lets each service do what libs/contracts says it does, and no more.
 */
import { EVENTS_STREAM, EventTypes, eventSubject, healthSubject, ServiceNames, Subjects, type AppName, type EventName, type Subject } from '@sealbox/contracts';
import { describeConfig } from '@sealbox/platform';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { appConfigSchemas } from '../tools/config-docs/src/schemas.js';
import { natsUsers, parseNatsConf, permits, type NatsUser } from './nats-conf.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

/** The part of the compose file format this check reads; everything else passes through. */
const ComposeService = z.looseObject({
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  healthcheck: z.looseObject({ test: z.union([z.string(), z.array(z.string())]).optional(), disable: z.boolean().optional() }).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.looseObject({ condition: z.string().optional() }))]).optional(),
  build: z.looseObject({ dockerfile: z.string().optional(), args: z.record(z.string(), z.string()).optional() }).optional(),
});
type ComposeService = z.infer<typeof ComposeService>;
const ComposeFile = z.looseObject({ services: z.record(z.string(), ComposeService) });

/** Apps that run in the dev stack: every folder of apps/ but the all-in-one process. */
const NOT_IN_STACK = new Set(['standalone']);

/** NATS users that are no app: `events`, read-only, for event subscribers such as `sealbox events tail`. */
const NON_APP_NATS_USERS = ['events'];
/** The nodes of the NATS cluster: every app waits for all of them; they share one environment of passwords. */
const NATS_NODES = ['nats-1', 'nats-2', 'nats-3'];

/** `${NAME:?message}`: compose refuses to start without NAME, so there is no default to leak. */
const REQUIRED_INTERPOLATION = /\$\{([A-Z0-9_]+):\?[^}]*\}/;
/** Variables that hold a secret (or a URL embedding one) and so must come from docker/.env. */
const SECRET_NAME = /(PASSWORD|SECRET|_PIN|_KEY|DATABASE_URL)$/;

function loadCompose(source: string) {
  return ComposeFile.parse(parse(source, { merge: true }));
}

function environmentOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, value === null ? '' : String(value)]));
}

function isApp(name: string): name is AppName {
  return Object.hasOwn(appConfigSchemas, name);
}

/** Every problem of the stack, one line each; the tests expect none. */
function composeProblems(composeSource: string, natsSource: string, appDirs: readonly string[]): string[] {
  const compose = loadCompose(composeSource);
  const users = new Map(natsUsers(parseNatsConf(natsSource)).map((user) => [user.user, user]));
  const natsEnv = environmentOf(compose.services['nats-1'] ?? {});
  const problems: string[] = [];
  for (const app of appDirs.filter((dir) => !NOT_IN_STACK.has(dir))) {
    const service = compose.services[app];
    if (!isApp(app)) {
      problems.push(`apps/${app}: not in the app registry of libs/contracts (AppNames), so it has no config schema to check`);
      continue;
    }
    if (!service) {
      problems.push(`apps/${app}: no service "${app}" in compose.yaml`);
      continue;
    }
    const env = environmentOf(service);
    const variables = describeConfig(appConfigSchemas[app]);
    for (const variable of variables.filter((candidate) => candidate.required)) {
      if (!env[variable.name]) problems.push(`${app}: ${variable.name} is required by the app's config schema but not set`);
    }
    const known = new Set(variables.map((variable) => variable.name));
    for (const name of Object.keys(env).filter((name) => name.startsWith('SEALBOX_') && !known.has(name))) {
      problems.push(`${app}: ${name} is not a variable of the app's config schema`);
    }
    if (env.SEALBOX_DATABASE_URL && env.SEALBOX_DATABASE_TLS_MODE !== 'verify-full') {
      problems.push(`${app}: connects to PostgreSQL without verify-full TLS (merge *database-tls into its environment)`);
    }
    const test = service.healthcheck?.test ?? [];
    const command = typeof test === 'string' ? [test] : test;
    if (service.healthcheck?.disable || command.length === 0 || command[0] === 'NONE') problems.push(`${app}: no healthcheck`);
    if (service.build?.dockerfile !== 'docker/Dockerfile' || service.build.args?.APP !== app) {
      problems.push(`${app}: not built from docker/Dockerfile with build arg APP=${app}`);
    }
    const dependsOn = service.depends_on;
    for (const node of NATS_NODES) {
      if (Array.isArray(dependsOn) || dependsOn?.[node]?.condition !== 'service_healthy') {
        problems.push(`${app}: does not wait for ${node} (depends_on ${node}: condition service_healthy)`);
      }
    }
    const user = env.SEALBOX_NATS_USER;
    const natsUser = user ? users.get(user) : undefined;
    if (!user || !natsUser) {
      problems.push(`${app}: NATS user ${user ?? '(SEALBOX_NATS_USER not set)'} is not a user of nats.conf`);
    } else {
      const variable = natsUser.password.replace(/^\$/, '');
      if (natsUser.password.startsWith('$') && natsEnv[variable] !== undefined && natsEnv[variable] !== env.SEALBOX_NATS_PASSWORD) {
        problems.push(`${app}: SEALBOX_NATS_PASSWORD is not the value nats gets for ${variable}`);
      }
    }
  }
  for (const node of NATS_NODES) {
    const env = environmentOf(compose.services[node] ?? {});
    if (!compose.services[node]) problems.push(`${node}: no such service (the NATS cluster has three nodes)`);
    else if (env.NATS_SERVER_NAME !== node) problems.push(`${node}: NATS_SERVER_NAME must be ${node} (names are unique in a cluster)`);
    for (const [name, value] of Object.entries(natsEnv)) {
      if (name !== 'NATS_SERVER_NAME' && env[name] !== value) problems.push(`${node}: ${name} differs from nats-1's`);
    }
  }
  for (const user of users.values()) {
    const variable = user.password.replace(/^\$/, '');
    if (!user.password.startsWith('$') || natsEnv[variable] === undefined) {
      problems.push(`nats.conf: the password of ${user.user} must be a $VARIABLE that the nats service's environment sets`);
    }
  }
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [variable, value] of Object.entries(environmentOf(service))) {
      if (SECRET_NAME.test(variable) && !REQUIRED_INTERPOLATION.test(value)) {
        problems.push(`${name}: ${variable} must come from docker/.env as \${NAME:?message}, never a value in compose.yaml`);
      }
    }
  }
  return problems;
}

function appDirectories(): string[] {
  return readdirSync(`${root}apps`).filter((entry) => statSync(`${root}apps/${entry}`).isDirectory());
}

const composeSource = read('docker/compose.yaml');
const natsSource = read('docker/nats.conf');

describe('docker/compose.yaml', () => {
  it('has a service per app with every required variable, a healthcheck and a NATS user of nats.conf', () => {
    expect(composeProblems(composeSource, natsSource, appDirectories())).toEqual([]);
  });

  it('runs every app of the registry but standalone', () => {
    const services = Object.keys(loadCompose(composeSource).services);
    for (const app of Object.keys(appConfigSchemas).filter((name) => !NOT_IN_STACK.has(name))) {
      expect(services, `service ${app}`).toContain(app);
    }
  });

  it('lists in .env.example every variable compose refuses to start without', () => {
    const required = new Set([...composeSource.matchAll(new RegExp(REQUIRED_INTERPOLATION, 'g'))].map((match) => match[1]));
    const example = new Set([...read('docker/.env.example').matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(required.size).toBeGreaterThan(0);
    expect([...required].filter((name) => !example.has(name))).toEqual([]);
  });

  describe('the check itself', () => {
    const services = (source: string) => loadCompose(source).services;
    const withoutLine = (pattern: RegExp) => {
      const lines = composeSource.split('\n');
      const index = lines.findIndex((line) => pattern.test(line));
      expect(index, `a line matching ${pattern}`).toBeGreaterThanOrEqual(0);
      return [...lines.slice(0, index), ...lines.slice(index + 1)].join('\n');
    };

    it('reads the shared settings merged into each service (<<: anchors)', () => {
      expect(environmentOf(services(composeSource).iam ?? {}).SEALBOX_NATS_URL).toBe('tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222');
      expect(services(composeSource).iam?.healthcheck?.test).toEqual(['CMD', 'node', 'docker/healthcheck.mjs']);
    });

    it('reports a missing required variable', () => {
      const broken = withoutLine(/^\s+SEALBOX_DATABASE_URL: postgres:\/\/sealbox_kms:/);
      expect(composeProblems(broken, natsSource, appDirectories())).toContain(
        "kms: SEALBOX_DATABASE_URL is required by the app's config schema but not set",
      );
    });

    it('reports an app folder without a service, and a variable that no schema knows', () => {
      const renamed = composeSource.replace(/^ {2}crypto:$/m, '  cryptography:').replace('SEALBOX_NATS_USER: iam', 'SEALBOX_NATS_USR: iam');
      const problems = composeProblems(renamed, natsSource, appDirectories());
      expect(problems).toContain('apps/crypto: no service "crypto" in compose.yaml');
      expect(problems).toContain("iam: SEALBOX_NATS_USR is not a variable of the app's config schema");
    });

    it('reports a NATS user missing from nats.conf and a secret written into compose.yaml', () => {
      const problems = composeProblems(
        composeSource.replace('SEALBOX_NATS_USER: storage', 'SEALBOX_NATS_USER: objects').replace(
          /SEALBOX_PKCS11_PIN: \$\{[^}]+\}/,
          'SEALBOX_PKCS11_PIN: "1234"',
        ),
        natsSource,
        appDirectories(),
      );
      expect(problems).toContain('storage: NATS user objects is not a user of nats.conf');
      expect(problems).toContain('kms: SEALBOX_PKCS11_PIN must come from docker/.env as ${NAME:?message}, never a value in compose.yaml');
    });

    it('reports an app that would reach PostgreSQL without TLS', () => {
      const source = composeSource.replace(/(image: sealbox\/secrets:dev[\s\S]*?)<<: \[\*service-env, \*database-tls\]/, '$1<<: *service-env');
      expect(source).not.toBe(composeSource);
      expect(composeProblems(source, natsSource, appDirectories())).toEqual(['secrets: connects to PostgreSQL without verify-full TLS (merge *database-tls into its environment)']);
    });

    it('reports a service without healthcheck', () => {
      const source = composeSource.replace(/^ {2}storage:\n {4}<<: \*app\n/m, '  storage:\n    <<: *app\n    healthcheck: { disable: true }\n');
      expect(composeProblems(source, natsSource, appDirectories())).toContain('storage: no healthcheck');
    });

    it('reports a NATS user whose password the nats service does not get', () => {
      expect(composeProblems(withoutLine(/^\s+EVENTS_NATS_PASSWORD:/), natsSource, appDirectories())).toEqual([
        "nats.conf: the password of events must be a $VARIABLE that the nats service's environment sets",
      ]);
    });

    it('reports an app folder that is not in the app registry', () => {
      expect(composeProblems(composeSource, natsSource, [...appDirectories(), 'billing'])).toContain(
        'apps/billing: not in the app registry of libs/contracts (AppNames), so it has no config schema to check',
      );
    });
  });
});

describe('docker/nats.conf', () => {
  const users = new Map(natsUsers(parseNatsConf(natsSource)).map((user) => [user.user, user]));
  const userOf = (name: string): NatsUser => {
    const user = users.get(name);
    if (!user) throw new Error(`nats.conf has no user ${name}`);
    return user;
  };
  const inbox = '_INBOX.3kRz9QqY.1';

  it('has one user per app of the stack and nothing else', () => {
    expect([...users.keys()].sort()).toEqual(['gateway', ...ServiceNames, ...NON_APP_NATS_USERS].sort());
  });

  it('lets each service serve its own subjects and nobody serve another service’s', () => {
    for (const subject of Object.keys(Subjects) as Subject[]) {
      const owner = Subjects[subject].service;
      expect(permits(userOf(owner).permissions.subscribe, subject), `${owner} subscribes ${subject}`).toBe(true);
      for (const user of users.values()) {
        if (user.user !== owner) expect(permits(user.permissions.subscribe, subject), `${user.user} subscribes ${subject}`).toBe(false);
      }
    }
  });

  it('lets the gateway call every subject, and each service answer, ask its own health subject and read only its own replies', () => {
    for (const subject of Object.keys(Subjects) as Subject[]) {
      expect(permits(userOf('gateway').permissions.publish, subject), `gateway publishes ${subject}`).toBe(true);
    }
    for (const service of ServiceNames) {
      const { publish, subscribe } = userOf(service).permissions;
      expect(permits(publish, healthSubject(service)), `${service} asks ${healthSubject(service)}`).toBe(true);
      expect(permits(publish, inbox), `${service} replies to anyone`).toBe(true);
      expect(permits(subscribe, `_INBOX.${service}.3kRz9QqY.1`), `${service} reads the replies to its own requests`).toBe(true);
      for (const other of ['gateway', ...ServiceNames].filter((name) => name !== service)) {
        expect(permits(subscribe, `_INBOX.${other}.3kRz9QqY.1`), `${service} reads the replies sent to ${other}`).toBe(false);
      }
    }
  });

  it('lets each app publish the events it is the source of, read every event, and use the stream without deleting it', () => {
    for (const name of Object.keys(EventTypes) as EventName[]) {
      const source = EventTypes[name].source;
      for (const user of users.values()) {
        expect(permits(user.permissions.publish, eventSubject(name)), `${user.user} publishes ${eventSubject(name)}`).toBe(user.user === source);
      }
    }
    for (const user of [...users.values()].filter((candidate) => !NON_APP_NATS_USERS.includes(candidate.user))) {
      const { publish, subscribe } = user.permissions;
      expect(permits(subscribe, 'events.iam.policy.created'), `${user.user} listens to events`).toBe(true);
      expect(permits(publish, `$JS.API.STREAM.CREATE.${EVENTS_STREAM}`), `${user.user} creates the stream`).toBe(true);
      expect(permits(publish, `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.crypto-keys`), `${user.user} pulls events`).toBe(true);
      expect(permits(publish, `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`), `${user.user} deletes the stream`).toBe(false);
      expect(permits(publish, `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`), `${user.user} purges the stream`).toBe(false);
    }
  });

  it('lets the events user read events, through core NATS or an ephemeral consumer of the stream, and nothing else', () => {
    const { publish, subscribe } = userOf('events').permissions;
    expect(permits(subscribe, 'events.iam.policy.created')).toBe(true);
    expect(permits(subscribe, '_INBOX.events.3kRz9QqY.1'), 'replies to its own inbox prefix').toBe(true);
    for (const subject of [inbox, ...Object.keys(Subjects), ...ServiceNames.map((service) => healthSubject(service))]) {
      expect(permits(subscribe, subject), `events subscribes ${subject}`).toBe(false);
    }
    for (const subject of [
      `$JS.API.STREAM.INFO.${EVENTS_STREAM}`,
      `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}.oc_3kRz9QqY_1.events.>`,
      `$JS.API.CONSUMER.INFO.${EVENTS_STREAM}.oc_3kRz9QqY_1`,
      `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.oc_3kRz9QqY_1`,
    ]) {
      expect(permits(publish, subject), `events publishes ${subject}`).toBe(true);
    }
    for (const subject of [
      ...Object.keys(Subjects),
      ...(Object.keys(EventTypes) as EventName[]).map((name) => eventSubject(name)),
      inbox,
      `$JS.API.STREAM.CREATE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`,
      `$JS.API.STREAM.MSG.DELETE.${EVENTS_STREAM}`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS_STREAM}.crypto-keys`,
      `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.crypto-keys`,
    ]) {
      expect(permits(publish, subject), `events publishes ${subject}`).toBe(false);
    }
  });

  it('reads the NATS configuration syntax it relies on', () => {
    const conf = parseNatsConf(`
      # comment
      port: 4222
      jetstream { store_dir = /data }
      authorization {
        users: [
          { user: a, password: "$A", permissions: { publish: ["a.>", "$JS.API.INFO"], subscribe: { allow: ["a.>"], deny: ["a.secret"] } } }
          { user: b // comment
            password: $B }
        ]
      }`);
    expect(conf.port).toBe('4222');
    expect(conf.jetstream).toEqual({ store_dir: '/data' });
    const [a, b] = natsUsers(conf);
    expect(a?.permissions.publish.allow).toEqual(['a.>', '$JS.API.INFO']);
    expect(a && permits(a.permissions.subscribe, 'a.open')).toBe(true);
    expect(a && permits(a.permissions.subscribe, 'a.secret')).toBe(false);
    expect(b).toEqual({ user: 'b', password: '$B', permissions: { publish: { allow: [], deny: [] }, subscribe: { allow: [], deny: [] } } });
    expect(() => parseNatsConf('users: [ { user: a }')).toThrow(/unexpected end of file/);
    expect(() => parseNatsConf('key: "open')).toThrow(/nats.conf:1: unterminated string/);
  });
});
