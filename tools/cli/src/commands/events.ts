import { CLOUDEVENT_TYPE_PREFIX, CloudEvent, EVENTS_SUBJECT_PREFIX, EventTypes, isEventName } from '@sealbox/contracts';
import { stringOption, type Command } from '../command.js';
import { usage } from '../errors.js';

const DEFAULT_NATS = 'nats://127.0.0.1:4222';

/**
 * `--type` to stream subjects: an event name (`lifecycle.instance.deleted`, also with its
 * `com.sealbox.` CloudEvents prefix) or a NATS wildcard over names (`lifecycle.>`, `kms.key.*`);
 * comma-separated for several. No `--type`: every event.
 */
export function subjectsOf(types: string | undefined): string[] {
  if (types === undefined) return [`${EVENTS_SUBJECT_PREFIX}.>`];
  return types.split(',').map((raw) => {
    const type = raw.trim().replace(new RegExp(`^${CLOUDEVENT_TYPE_PREFIX.replace('.', '\\.')}\\.`), '');
    const wildcard = /(^|\.)(\*|>)(\.|$)/.test(type);
    if (!/^[a-z0-9*>-]+(\.[a-z0-9*>-]+)*$/.test(type) || (!wildcard && !isEventName(type))) {
      throw usage(`--type ${raw.trim()} is not an event type (see the README's event catalog, e.g. ${Object.keys(EventTypes).slice(-3).join(', ')}) or a wildcard like lifecycle.>`);
    }
    return `${EVENTS_SUBJECT_PREFIX}.${type}`;
  });
}

/** One event as one line: time, type, subject of the event and its data. */
export function eventLine(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const event = CloudEvent.safeParse(json);
  if (!event.success) return `(not a CloudEvent) ${text}\n`;
  const type = event.data.type.startsWith(`${CLOUDEVENT_TYPE_PREFIX}.`) ? event.data.type.slice(CLOUDEVENT_TYPE_PREFIX.length + 1) : event.data.type;
  return `${event.data.time}  ${type}  ${JSON.stringify(event.data.data)}\n`;
}

const tail: Command = {
  words: ['events', 'tail'],
  usage: '[--type TYPE[,TYPE]] [--nats URL] [--nats-user USER] [--from-start] [--count N]',
  summary: 'Follow the event stream (JetStream SEALBOX_EVENTS) until Ctrl-C; password in SEALBOX_NATS_PASSWORD',
  options: {
    type: { type: 'string' },
    nats: { type: 'string' },
    'nats-user': { type: 'string' },
    'from-start': { type: 'boolean' },
    count: { type: 'string' },
  },
  async run(context) {
    const { io, values } = context;
    const subjects = subjectsOf(stringOption(values, 'type'));
    const countText = stringOption(values, 'count');
    if (countText !== undefined && !/^[1-9][0-9]{0,8}$/.test(countText)) throw usage('--count must be a positive whole number');
    const count = countText === undefined ? Infinity : Number(countText);
    const servers = stringOption(values, 'nats') ?? io.env['SEALBOX_NATS_URL'] ?? DEFAULT_NATS;
    const user = stringOption(values, 'nats-user') ?? io.env['SEALBOX_NATS_USER'];
    const pass = io.env['SEALBOX_NATS_PASSWORD'];
    let seen = 0;
    for await (const event of io.events.tail({
      servers,
      ...(user ? { user } : {}),
      ...(pass ? { pass } : {}),
      subjects,
      fromStart: values['from-start'] === true,
      onReady: () => io.stderr.write(`Following ${subjects.join(', ')} on ${servers} (Ctrl-C to stop)\n`),
      ...(io.signal ? { signal: io.signal } : {}),
    })) {
      io.stdout.write(context.format === 'json' ? `${event.text.trim()}\n` : eventLine(event.text));
      seen += 1;
      if (seen >= count) break;
    }
  },
};

export const eventsCommands: readonly Command[] = [tail];
