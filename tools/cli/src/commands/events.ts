import { CLOUDEVENT_TYPE_PREFIX, CloudEvent, EVENTS_SUBJECT_PREFIX, EventTypes, eventTypesMatching, isEventName } from '@sealbox/contracts';
import { stringOption, type CommandSpec } from '../command.js';
import { usage } from '../errors.js';
import { httpEvents } from '../events/http-source.js';
import type { StreamedEvent } from '../events/source.js';

const DEFAULT_NATS = 'nats://127.0.0.1:4222';

const withoutPrefix = (type: string) => type.trim().replace(new RegExp(`^${CLOUDEVENT_TYPE_PREFIX.replace('.', '\\.')}\\.`), '');
const notAType = (raw: string) =>
  usage(`--type ${raw.trim()} is not an event type (see the catalog in docs/events.md, e.g. ${Object.keys(EventTypes).slice(-3).join(', ')}) or a prefix like lifecycle.>`);

/**
 * `--type` to stream subjects (NATS): an event name (`lifecycle.instance.deleted`, also with its
 * `com.sealbox.` CloudEvents prefix) or a NATS wildcard over names (`lifecycle.>`, `kms.key.*`);
 * comma-separated for several. No `--type`: every event.
 */
export function subjectsOf(types: string | undefined): string[] {
  if (types === undefined) return [`${EVENTS_SUBJECT_PREFIX}.>`];
  return types.split(',').map((raw) => {
    const type = withoutPrefix(raw);
    const wildcard = /(^|\.)(\*|>)(\.|$)/.test(type);
    if (!/^[a-z0-9*>-]+(\.[a-z0-9*>-]+)*$/.test(type) || (!wildcard && !isEventName(type))) throw notAType(raw);
    return `${EVENTS_SUBJECT_PREFIX}.${type}`;
  });
}

/**
 * `--type` to the type prefixes of `GET /v1/events`: names and prefixes as they are, a final `.>` or
 * `.*` as a prefix (`lifecycle.>` → `lifecycle.`). Other wildcards need `--nats`.
 */
export function typePrefixesOf(types: string | undefined): string | undefined {
  if (types === undefined) return undefined;
  const prefixes = types.split(',').map((raw) => {
    const type = withoutPrefix(raw).replace(/\.[>*]$/, '.');
    if (/[*>]/.test(type)) throw usage(`--type ${raw.trim()}: only a final .> or .* works over HTTP; other wildcards need --nats`);
    if (eventTypesMatching(type).unknown.length) throw notAType(raw);
    return type;
  });
  return prefixes.join(',');
}

/** One event as one line: time, type and its data. */
export function eventLine(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const event = CloudEvent.safeParse(json);
  if (!event.success) return `(not a CloudEvent) ${text}\n`;
  return `${event.data.time}  ${withoutPrefix(event.data.type)}  ${JSON.stringify(event.data.data)}\n`;
}

const tail: CommandSpec = {
  words: ['events', 'tail'],
  summary: "Follow the account's events until Ctrl-C (from the gateway; or straight from NATS with --nats)",
  description: [
    'Prints each event as it happens: one line each, or one CloudEvent JSON per line with --output json.',
    'By default it reads GET /v1/events of the logged-in gateway (standalone or distributed; needs the event-stream Reader role) and reconnects on its own.',
    'With --nats it reads the JetStream stream SEALBOX_EVENTS instead (every account; NATS password in SEALBOX_NATS_PASSWORD; TLS files in SEALBOX_NATS_TLS_CA_FILE, SEALBOX_NATS_TLS_CERT_FILE and SEALBOX_NATS_TLS_KEY_FILE).',
  ].join('\n'),
  options: [
    { flags: '--type <type,…>', description: 'event types or prefixes: secrets.secret.created, lifecycle.> …' },
    { flags: '--from-start', description: 'from the oldest event kept, not only new ones' },
    { flags: '--count <n>', description: 'stop after this many events' },
    { flags: '--nats [url]', description: `read NATS JetStream directly (default ${DEFAULT_NATS}, or SEALBOX_NATS_URL)` },
    { flags: '--nats-user <user>', description: 'NATS user (with --nats)' },
  ],
  examples: ['sealbox events tail --type secrets.', 'sealbox events tail --type lifecycle.> --output json --count 1', 'sealbox events tail --nats nats://127.0.0.1:4222 --nats-user events'],
  async run(context) {
    const { io, values } = context;
    const countText = stringOption(values, 'count');
    if (countText !== undefined && !/^[1-9][0-9]{0,8}$/.test(countText)) throw usage('--count must be a positive whole number');
    const count = countText === undefined ? Infinity : Number(countText);
    const types = stringOption(values, 'type');
    const fromStart = values['from-start'] === true;
    let events: AsyncIterable<StreamedEvent>;
    if (values['nats'] !== undefined) {
      const subjects = subjectsOf(types);
      const servers = stringOption(values, 'nats') ?? io.env['SEALBOX_NATS_URL'] ?? DEFAULT_NATS;
      const user = stringOption(values, 'nats-user') ?? io.env['SEALBOX_NATS_USER'];
      const pass = io.env['SEALBOX_NATS_PASSWORD'];
      const [caFile, certFile, keyFile] = ['CA', 'CERT', 'KEY'].map((part) => io.env[`SEALBOX_NATS_TLS_${part}_FILE`] || undefined);
      if (Boolean(certFile) !== Boolean(keyFile)) throw usage('SEALBOX_NATS_TLS_CERT_FILE and SEALBOX_NATS_TLS_KEY_FILE go together');
      const tls = caFile || certFile ? { ...(caFile ? { caFile } : {}), ...(certFile && keyFile ? { certFile, keyFile } : {}) } : undefined;
      events = io.events.tail({
        servers,
        ...(user ? { user } : {}),
        ...(pass ? { pass } : {}),
        ...(tls ? { tls } : {}),
        subjects,
        fromStart,
        onReady: () => io.stderr.write(`Following ${subjects.join(', ')} on ${servers} (Ctrl-C to stop)\n`),
        ...(io.signal ? { signal: io.signal } : {}),
      });
    } else {
      const prefixes = typePrefixesOf(types);
      const gateway = context.gateway();
      events = httpEvents(gateway, io, {
        types: prefixes,
        fromStart,
        onReady: () => io.stderr.write(`Following ${prefixes ?? 'every event'} at ${gateway.endpoint} (Ctrl-C to stop)\n`),
        ...(io.signal ? { signal: io.signal } : {}),
      });
    }
    let seen = 0;
    for await (const event of events) {
      io.stdout.write(context.format === 'json' ? `${event.text.trim()}\n` : eventLine(event.text));
      seen += 1;
      if (seen >= count) break;
    }
  },
};

export const eventsCommands: readonly CommandSpec[] = [tail];
