import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import bcrypt from 'bcryptjs';
import { BasicAuth } from '../../exporter/basic-auth.js';
import { loadWebConfig, parseWebConfig, WebConfigError } from '../../exporter/web-config.js';
import { parseListenAddress } from '../../runtime/listen-address.js';

const dir = mkdtempSync(path.join(tmpdir(), 'exporter-webcfg-'));
writeFileSync(path.join(dir, 'cert.pem'), 'CERT');
writeFileSync(path.join(dir, 'key.pem'), 'KEY');
const hash = bcrypt.hashSync('s3cret', 4);

test('exporter-toolkit keys: TLS files relative to the config, client auth, versions, users, headers', (t) => {
  const file = path.join(dir, 'web.yml');
  writeFileSync(
    file,
    `tls_server_config:\n  cert_file: cert.pem\n  key_file: ${path.join(dir, 'key.pem')}\n  min_version: TLS13\n` +
      `basic_auth_users:\n  prometheus: '${hash}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`,
  );
  const web = loadWebConfig(file);
  t.is(web.tls?.cert.toString(), 'CERT');
  t.is(web.tls?.key.toString(), 'KEY');
  t.is(web.tls?.clientAuth, 'NoClientCert');
  t.is(web.tls?.minVersion, 'TLSv1.3');
  t.deepEqual([...web.users.keys()], ['prometheus']);
  t.deepEqual(web.headers, { 'X-Frame-Options': 'deny' });
});

test('an empty file means plain HTTP without auth; TLS defaults to TLS 1.2 minimum', (t) => {
  t.deepEqual(parseWebConfig('', dir), { users: new Map(), headers: {} });
  t.is(parseWebConfig('tls_server_config: {cert_file: cert.pem, key_file: key.pem}', dir).tls?.minVersion, 'TLSv1.2');
});

test('mistakes are one-line errors naming the key', (t) => {
  const bad: [string, RegExp][] = [
    ['tls_server_config: {cert_file: cert.pem}', /needs both cert_file and key_file/],
    ['tls_server_config: {cert_file: cert.pem, key_file: nope.pem}', /key_file: ENOENT/],
    ['tls_server_config: {cert_file: cert.pem, key_file: key.pem, min_version: TLS9}', /min_version must be one of/],
    ['tls_server_config: {cert_file: cert.pem, key_file: key.pem, client_auth_type: RequireAndVerifyClientCert}', /needs client_ca_file/],
    ['tls_server_config: {cert_file: cert.pem, key_file: key.pem, cipher_suites: [x]}', /unsupported key 'cipher_suites'/],
    ['basic_auth_users: {alice: plaintext}', /basic_auth_users.alice must be a bcrypt hash/],
    ['basic_auth_users: [alice]', /basic_auth_users must be a mapping/],
    ['http_server_config: {http2: false}', /unsupported key 'http2'/],
    ['http_server_config: {headers: {Content-Type: x}}', /unsupported key 'Content-Type'/],
    ['tls_config: {}', /unsupported key 'tls_config'/],
    ['a: [', /not valid YAML/],
  ];
  for (const [yaml, message] of bad) {
    const err = t.throws(() => parseWebConfig(yaml, dir), { instanceOf: WebConfigError }, yaml);
    t.regex(err!.message, message, yaml);
    t.false(err!.message.includes('\n'), yaml);
  }
});

test('basic auth accepts the right password only, also on the cached path', async (t) => {
  const auth = new BasicAuth(new Map([['prometheus', hash]]));
  const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  t.true(await auth.check(header('prometheus', 's3cret')));
  t.true(await auth.check(header('prometheus', 's3cret')));
  t.false(await auth.check(header('prometheus', 'wrong')));
  t.false(await auth.check(header('nobody', 's3cret')));
  t.false(await auth.check(undefined));
  t.false(await auth.check('Bearer abc'));
  t.false(await auth.check(`Basic ${Buffer.from('no-colon').toString('base64')}`));
});

test('listen addresses', (t) => {
  t.deepEqual(parseListenAddress(':9177'), { host: '', port: 9177 });
  t.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.deepEqual(parseListenAddress('[::1]:9177'), { host: '::1', port: 9177 });
  t.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9177', 'host', ':', ':70000', '::1:9177', 'a b:1']) t.is(parseListenAddress(bad), undefined, bad);
});
