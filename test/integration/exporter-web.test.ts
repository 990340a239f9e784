// The web config file: TLS with a real certificate chain, client certificates and basic auth, end to end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import bcrypt from 'bcryptjs';
import { URIS } from '../env/layout.js';
import { startExporter } from '../harness/roles/exporter.js';
import { parseExposition, valueOf } from '../harness/readers/exposition.js';

const dir = mkdtempSync(path.join(tmpdir(), 'exporter-web-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  }
}
makePki();
const file = (name: string) => readFileSync(path.join(dir, name));

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(url: string, options: https.RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: file('ca.crt'), timeout: 20_000, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('TLS and basic auth: only the right credentials over a verified connection get metrics', async (t) => {
  writeFileSync(
    path.join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-me', 8)}\n`,
  );
  const exporter = await startExporter(['--libvirt.uri', URIS.testTcp, '--web.config.file', path.join(dir, 'web.yml')]);
  t.teardown(() => exporter.stop());
  t.regex(exporter.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const anonymous = await get(`${exporter.url}/metrics`);
  t.is(anonymous.status, 401);
  t.is(anonymous.headers['www-authenticate'], 'Basic realm="libvirt exporter"');
  t.is((await get(`${exporter.url}/metrics`, { headers: basic('prometheus', 'wrong') })).status, 401);
  t.is((await get(`${exporter.url}/metrics`, { headers: basic('nobody', 'scrape-me') })).status, 401);

  const ok = await get(`${exporter.url}/metrics`, { headers: basic('prometheus', 'scrape-me') });
  t.is(ok.status, 200);
  t.is(valueOf(parseExposition(ok.body), 'libvirt_up'), 1);

  // Plain HTTP to the TLS port gets nothing.
  await t.throwsAsync(fetch(exporter.url.replace('https:', 'http:') + '/metrics', { signal: AbortSignal.timeout(10_000) }));
});

test('RequireAndVerifyClientCert: no client certificate, no connection; a CA-signed one is served', async (t) => {
  writeFileSync(
    path.join(dir, 'mtls.yml'),
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n',
  );
  const exporter = await startExporter(['--libvirt.uri', URIS.testTcp, '--web.config.file', path.join(dir, 'mtls.yml')]);
  t.teardown(() => exporter.stop());
  await t.throwsAsync(get(`${exporter.url}/metrics`));
  const ok = await get(`${exporter.url}/metrics`, { cert: file('client.crt'), key: file('client.key') });
  t.is(ok.status, 200);
  t.is(valueOf(parseExposition(ok.body), 'libvirt_up'), 1);
});
