import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect as tcpConnect } from 'node:net';

export interface PrivateNats {
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A nats-server of our own on a free loopback port, for the whole run: nothing else subscribes to
 * its subjects, so no dev stack or parallel test can answer (or load) the NATS rows.
 */
export async function startPrivateNats(binary: string): Promise<PrivateNats> {
  const port = await freePort();
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    output = `${output}${chunk}`.slice(-2000);
  });
  let failure: Error | undefined;
  child.once('error', (error) => {
    failure = new Error(`cannot start ${binary} (${error.message}); install nats-server or set BENCH_NATS_URL`);
  });
  child.once('exit', (code) => {
    failure ??= new Error(`${binary} exited with code ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (failure) throw failure;
    if (await accepts(port)) return { url: `nats://127.0.0.1:${port}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw failure ?? new Error(`${binary} did not accept connections on port ${port} within 10 s`);
}
