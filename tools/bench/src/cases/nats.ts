import { connect, RequestError, type NatsConnection } from '@nats-io/transport-node';
import type { HealthResponse } from '@sealbox/contracts';
import { healthReport } from '@sealbox/platform';
import type { BenchCase, Measurement } from '../bench.js';
import { natsServersOf, type BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';

/** Row 3's subject: outside the registry, so no Sealbox service ever subscribes to it. */
export const ECHO_SUBJECT = 'bench.echo';

/**
 * Refuse to measure a subject somebody else already answers (a running dev stack would share the
 * queue group and the numbers): a request must come back "no responders".
 */
export async function assertNobodyAnswers(connection: NatsConnection, subject: string): Promise<void> {
  try {
    await connection.request(subject, '{}', { timeout: 1000 });
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) return;
    throw new Error(`${subject}: expected no responders before the run, got ${error instanceof Error ? error.message : String(error)}`);
  }
  throw new Error(
    `${subject} is already answered on this NATS server (a running dev stack?); stop it or set BENCH_NATS_URL to a private nats-server`,
  );
}

/** The replica id this process's handlers put in their answers; any other means a foreign responder. */
export async function ownReplica(): Promise<string> {
  return (await healthReport('iam', {})).replica;
}

export function checkReplica(response: HealthResponse, replica: string): void {
  if (response.replica !== replica) throw new Error(`answered by ${response.replica}, not by this process`);
}

/**
 * Raw @nats-io/transport-node request/reply: a responder connection and a requester connection in
 * this process. The responder builds the same health answer as the Nest handler (healthReport) and
 * both sides JSON-encode and decode, so only the framework layers differ from the Nest rows.
 */
async function measureRawNats(settings: BenchSettings, concurrency: number): Promise<Measurement> {
  const servers = natsServersOf(settings);
  const responder = await connect({ servers, name: 'sealbox-bench-responder' });
  const requester = await connect({ servers, name: 'sealbox-bench-requester' });
  try {
    await assertNobodyAnswers(requester, ECHO_SUBJECT);
    const replica = await ownReplica();
    responder.subscribe(ECHO_SUBJECT, {
      callback: (error, message) => {
        if (error) return;
        JSON.parse(message.string());
        void healthReport('iam', {}).then((answer) => message.respond(JSON.stringify(answer)));
      },
    });
    await responder.flush();
    const operation = async (): Promise<void> => {
      const reply = await requester.request(ECHO_SUBJECT, '{}', { timeout: 5000 });
      checkReplica(reply.json<HealthResponse>(), replica);
    };
    const result = await warmThenMeasure(operation, { ...settings, concurrency });
    return { unit: 'ops/s', ...result };
  } finally {
    await requester.close();
    await responder.close();
  }
}

export function natsRawCases(settings: BenchSettings): BenchCase[] {
  return [
    {
      name: 'nats.raw.seq',
      description: `raw NATS request/reply on ${ECHO_SUBJECT}, one request at a time (responder and requester in one process)`,
      uses: ['nats'],
      run: (current) => measureRawNats(current, 1),
    },
    {
      name: 'nats.raw.conc',
      description: `raw NATS request/reply on ${ECHO_SUBJECT}, ${settings.concurrency} requests in flight`,
      uses: ['nats'],
      run: (current) => measureRawNats(current, current.concurrency),
    },
  ];
}
