#!/usr/bin/env node
import { run } from './cli.js';
import { processIo } from './io.js';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
process.exitCode = await run(process.argv.slice(2), processIo(interrupt.signal));
