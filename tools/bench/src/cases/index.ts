import { Bench } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { dependencyCases } from './dependencies.js';
import { envelopeCases } from './envelope.js';
import { hsmCases } from './hsm.js';
import { httpCases } from './http.js';
import { jwtCases } from './jwt.js';
import { kmsCases } from './kms.js';
import { lifecycleCases } from './lifecycle.js';
import { natsRawCases } from './nats.js';
import { nestRpcCases } from './nest-rpc.js';
import { secretsCases } from './secrets.js';
import { standaloneCases } from './standalone.js';

/** Every row of `npm run bench`. A new row: add a BenchCase here (after the baseline it names). */
export function createBench(settings: BenchSettings): Bench {
  const bench = new Bench();
  for (const benchCase of [
    ...httpCases(settings),
    ...standaloneCases(settings),
    ...natsRawCases(settings),
    ...nestRpcCases(settings),
    ...hsmCases(settings),
    ...kmsCases(settings),
    ...envelopeCases(),
    ...jwtCases(),
    ...lifecycleCases(),
    ...dependencyCases(settings),
    ...secretsCases(settings),
  ]) {
    bench.add(benchCase);
  }
  return bench;
}
