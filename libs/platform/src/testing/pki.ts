import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway PKI for tests that run servers over TLS (the e2e tier's NATS, a private PostgreSQL):
 * a P-256 CA, one server certificate for 127.0.0.1/localhost and one client certificate per name
 * (CN = the name, as PostgreSQL's `cert` authentication reads it), valid two days, made with openssl.
 */
export interface TestPki {
  readonly caFile: string;
  readonly server: { readonly certFile: string; readonly keyFile: string };
  client(name: string): { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
}

/** Where the files of a PKI made by createTestPki are. */
export function testPkiAt(directory: string): TestPki {
  const caFile = join(directory, 'ca.pem');
  return {
    caFile,
    server: { certFile: join(directory, 'server.pem'), keyFile: join(directory, 'server-key.pem') },
    client: (name) => ({ caFile, certFile: join(directory, `client-${name}.pem`), keyFile: join(directory, `client-${name}-key.pem`) }),
  };
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createTestPki(directory: string, options: { readonly caName: string; readonly clients: readonly string[] }): TestPki {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(directory, ['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${options.caName}`]);
  const issue = (file: string, commonName: string, extensions: string): void => {
    writeFileSync(join(directory, `${file}.ext`), extensions);
    openssl(directory, ['req', ...ec, '-keyout', `${file}-key.pem`, '-out', `${file}.csr`, '-subj', `/CN=${commonName}`]);
    openssl(directory, ['x509', '-req', '-in', `${file}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${file}.pem`, '-days', '2', '-extfile', `${file}.ext`]);
    chmodSync(join(directory, `${file}-key.pem`), 0o600);
    rmSync(join(directory, `${file}.csr`));
    rmSync(join(directory, `${file}.ext`));
  };
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  for (const client of options.clients) issue(`client-${client}`, client, 'extendedKeyUsage=clientAuth\n');
  chmodSync(join(directory, 'ca-key.pem'), 0o600);
  return testPkiAt(directory);
}
