// The TLS transport. The shared libvirtd listens without TLS (listen_tls = 0), so a TLS terminator in this
// process (client certificate required) forwards to the daemon's unix socket: the TLS handshake is real
// OpenSSL, the protocol behind it is the real daemon's. Certificates are made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { connect } from '../../libvirt/client.js';
import { client } from '../harness/env/libvirt-client.js';
import { SOCKETS as sockets } from '../env/layout.js';


/** A CA and, signed by it, a server certificate for localhost/127.0.0.1 and a client certificate. */
function makePki(dir: string, caName: string): void {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${caName}`, '-keyout', 'cakey.pem', '-out', 'cacert.pem');
  for (const [who, ext] of [['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=libvirt-telemetry-${who}`, '-keyout', `${who}key.pem`, '-out', `${who}.csr`);
    writeFileSync(path.join(dir, `${who}.ext`), `${ext}\n`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'cacert.pem', '-CAkey', 'cakey.pem', '-CAcreateserial', '-days', '2', '-extfile', `${who}.ext`, '-out', `${who}cert.pem`);
  }
}

test('qemu+tls:// verifies the server, presents the client certificate and speaks to the daemon', async (t) => {
  const pki = mkdtempSync(path.join(tmpdir(), 'libvirt-tls-'));
  const otherPki = mkdtempSync(path.join(tmpdir(), 'libvirt-tls-other-'));
  t.teardown(() => {
    rmSync(pki, { recursive: true, force: true });
    rmSync(otherPki, { recursive: true, force: true });
  });
  makePki(pki, 'test CA');
  makePki(otherPki, 'another CA');
  const read = (file: string): Buffer => readFileSync(path.join(pki, file));

  const clientNames: string[] = [];
  const server = tls.createServer({ key: read('serverkey.pem'), cert: read('servercert.pem'), ca: read('cacert.pem'), requestCert: true, rejectUnauthorized: true }, (secure) => {
    clientNames.push(String(secure.getPeerCertificate().subject.CN));
    const daemon = net.createConnection({ path: sockets.libvirtdRw });
    secure.pipe(daemon).pipe(secure);
    secure.on('error', () => daemon.destroy());
    daemon.on('error', () => secure.destroy());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const port = (server.address() as net.AddressInfo).port;

  const c = await client(t, `qemu+tls://localhost:${port}/system?pkipath=${pki}`, { readOnly: true });
  t.true((await c.getLibVersion()) > 0);
  t.true(Array.isArray(await c.listAllDomains()));
  t.deepEqual(clientNames, ['libvirt-telemetry-client']);

  const byIp = await client(t, `qemu+tls://127.0.0.1:${port}/system`, {
    tls: { caFile: path.join(pki, 'cacert.pem'), certFile: path.join(pki, 'clientcert.pem'), keyFile: path.join(pki, 'clientkey.pem') },
  });
  t.true((await byIp.getLibVersion()) > 0);

  await t.throwsAsync(connect(`qemu+tls://localhost:${port}/system`, {
    tls: { caFile: path.join(otherPki, 'cacert.pem'), certFile: path.join(pki, 'clientcert.pem'), keyFile: path.join(pki, 'clientkey.pem') },
  }), { message: /cannot connect to libvirt at tls:\/\/localhost:\d+: .*(self[- ]signed|unable to verify|certificate)/i }, 'a server from an unknown CA is refused');
  await t.throwsAsync(connect(`qemu+tls://localhost:${port}/system?pkipath=${otherPki}`), { message: /cannot connect to libvirt at tls:|ECONNRESET|closed/ }, 'a client certificate from an unknown CA is refused by the server');
  await t.throwsAsync(connect(`qemu+tls://localhost:${port}/system`, { tls: { caFile: path.join(pki, 'nope.pem') } }), { message: `cannot read the TLS CA certificate ${path.join(pki, 'nope.pem')}: ENOENT: no such file or directory, open '${path.join(pki, 'nope.pem')}'` });
});
