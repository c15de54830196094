import 'reflect-metadata';
import { runGateway } from '@sealbox/gateway';

await runGateway();
