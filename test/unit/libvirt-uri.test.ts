import test from 'ava';
import { UriError } from '../../libvirt/errors.js';
import { parseUri } from '../../libvirt/uri.js';

const pki = { caFile: '/etc/pki/CA/cacert.pem', certFile: '/etc/pki/libvirt/clientcert.pem', keyFile: '/etc/pki/libvirt/private/clientkey.pem', verify: true };

const accepted: [string, { readOnly?: boolean }, ReturnType<typeof parseUri>][] = [
  ['qemu:///system', {}, { transport: 'unix', socketPath: '/var/run/libvirt/libvirt-sock', openName: 'qemu:///system' }],
  ['qemu:///system', { readOnly: true }, { transport: 'unix', socketPath: '/var/run/libvirt/libvirt-sock-ro', openName: 'qemu:///system' }],
  ['qemu+unix:///system', {}, { transport: 'unix', socketPath: '/var/run/libvirt/libvirt-sock', openName: 'qemu:///system' }],
  ['qemu+unix:///system?socket=/tmp/x%20y.sock', { readOnly: true }, { transport: 'unix', socketPath: '/tmp/x y.sock', openName: 'qemu:///system' }],
  ['test+unix:///default', {}, { transport: 'unix', socketPath: '/var/run/libvirt/libvirt-sock', openName: 'test:///default' }],
  ['qemu+tcp://127.0.0.1/system', {}, { transport: 'tcp', host: '127.0.0.1', port: 16509, openName: 'qemu:///system' }],
  ['qemu+tcp://host.example:1234/system', {}, { transport: 'tcp', host: 'host.example', port: 1234, openName: 'qemu:///system' }],
  ['qemu+tcp://[::1]:16509/session', {}, { transport: 'tcp', host: '::1', port: 16509, openName: 'qemu:///session' }],
  ['test+tcp://127.0.0.1/default', {}, { transport: 'tcp', host: '127.0.0.1', port: 16509, openName: 'test:///default' }],
  ['QEMU+TCP://h/system', {}, { transport: 'tcp', host: 'h', port: 16509, openName: 'qemu:///system' }],
  ['remote+tcp://h/', {}, { transport: 'tcp', host: 'h', port: 16509, openName: '' }],
  ['qemu+tcp://h/system?name=qemu:///embed&no_verify=1', {}, { transport: 'tcp', host: 'h', port: 16509, openName: 'qemu:///embed' }],
  ['qemu+tcp://h/system?mode=legacy&foo=bar', {}, { transport: 'tcp', host: 'h', port: 16509, openName: 'qemu:///system?foo=bar' }],
  ['qemu+tls://h/system', {}, { transport: 'tls', host: 'h', port: 16514, openName: 'qemu:///system', tls: pki }],
  ['qemu://h:999/system', {}, { transport: 'tls', host: 'h', port: 999, openName: 'qemu:///system', tls: pki }],
  ['qemu+tls://h/system?pkipath=/srv/pki/&no_verify=1', {}, {
    transport: 'tls', host: 'h', port: 16514, openName: 'qemu:///system',
    tls: { caFile: '/srv/pki/cacert.pem', certFile: '/srv/pki/clientcert.pem', keyFile: '/srv/pki/clientkey.pem', verify: false },
  }],
];

for (const [uri, options, expected] of accepted) {
  test(`parses ${uri}${options.readOnly ? ' (read-only)' : ''}`, (t) => {
    t.deepEqual(parseUri(uri, options), expected);
  });
}

const rejected: [string, RegExp][] = [
  ['', /not a libvirt URI/],
  ['/var/run/libvirt/libvirt-sock', /not a libvirt URI/],
  ['qemu:/system', /not a libvirt URI/],
  ['xen:///system', /unsupported driver 'xen'/],
  ['qemu+ssh://root@h/system', /transport 'ssh' is not supported/],
  ['qemu+ext:///system?command=/bin/x', /transport 'ext' is not supported/],
  ['qemu+carrier://h/system', /unknown transport 'carrier'/],
  ['qemu+tcp:///system', /needs a host/],
  ['qemu+tls:///system', /needs a host/],
  ['qemu+unix://h/system', /takes no host/],
  ['qemu:///session', /only \/system/],
  ['qemu+unix:///system?socket=relative.sock', /absolute path/],
  ['test:///default', /in-process test driver/],
  ['qemu+tcp://h:0/system', /bad port/],
  ['qemu+tcp://h:70000/system', /bad port/],
  ['qemu+tcp://h:12ab/system', /bad host/],
  ['qemu+tcp://h/system?x=%zz', /percent-encoding/],
];

for (const [uri, message] of rejected) {
  test(`rejects '${uri}'`, (t) => {
    t.throws(() => parseUri(uri), { instanceOf: UriError, message });
  });
}
