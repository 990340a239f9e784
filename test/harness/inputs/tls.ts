// Test PKI made with openssl: a CA, a server certificate it signs (localhost, 127.0.0.1, ::1), client
// certificates it signs, and an unrelated CA for verification failures. PEM buffers; files removed at once.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface KeyPair {
  key: Buffer;
  cert: Buffer;
}

export interface TestPki {
  ca: Buffer;
  server: KeyPair;
  /** Client certificates by CN (the user each authenticates as). */
  clients: Map<string, KeyPair>;
  /** A CA that signed none of these certificates. */
  otherCa: Buffer;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

function signed(dir: string, name: string, subject: string, extensions: string): KeyPair {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  return { key: readFileSync(path.join(dir, `${name}.key`)), cert: readFileSync(path.join(dir, `${name}.crt`)) };
}

export function makeTestPki(clientNames: readonly string[] = []): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'test-pki-'));
  try {
    selfSignedCa(dir, 'ca');
    selfSignedCa(dir, 'other');
    const server = signed(dir, 'server', '/CN=kube-apiserver', 'subjectAltName=DNS:localhost,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
    const clients = new Map<string, KeyPair>();
    for (const [i, cn] of clientNames.entries()) {
      clients.set(cn, signed(dir, `client${i}`, `/CN=${cn}`, 'extendedKeyUsage=clientAuth\n'));
    }
    return {
      ca: readFileSync(path.join(dir, 'ca.crt')),
      otherCa: readFileSync(path.join(dir, 'other.crt')),
      server,
      clients,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
