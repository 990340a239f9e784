// connect(): the handshake as a scripted daemon sees it (auth, keepalive negotiation, CONNECT_OPEN).
import test, { type ExecutionContext } from 'ava';
import { connect } from '../../libvirt/client.js';
import { AuthError } from '../../libvirt/errors.js';
import { AuthType, RemoteProc } from '../../libvirt/protocol.js';
import type { ConnectOptions, LibvirtClient } from '../../libvirt/types.js';
import { reply } from '../harness/fakes/server-packets.js';
import { hex } from '../harness/hex.js';
import { scriptedDaemon } from '../harness/fakes/scripted-peer.js';

/** The handshake as a daemon with the given auth list sees it; returns the procedures called and CONNECT_OPEN's body. */
async function handshake(t: ExecutionContext, authTypes: number[], options: ConnectOptions = {}) {
  const procs: number[] = [];
  let openBody: Buffer | undefined;
  const daemon = await scriptedDaemon((h, body) => {
    procs.push(h.proc);
    switch (h.proc) {
      case RemoteProc.AUTH_LIST:
        return [reply(h.proc, h.serial, (w) => w.array(authTypes, 20, (x, v) => x.int(v)))];
      case RemoteProc.AUTH_POLKIT:
      case RemoteProc.CONNECT_SUPPORTS_FEATURE:
        return [reply(h.proc, h.serial, (w) => w.int(1))];
      case RemoteProc.CONNECT_OPEN:
        openBody = Buffer.from(body);
        return [reply(h.proc, h.serial)];
      default:
        return [reply(h.proc, h.serial)];
    }
  });
  t.teardown(daemon.dispose);
  const result = await connect(daemon.uri('/system'), options).then((c) => c, (err: unknown) => err as Error);
  return { procs, openBody, result };
}

test('handshake: AUTH_LIST, keepalive negotiation, then CONNECT_OPEN with the daemon-side name and the read-only flag', async (t) => {
  const { procs, openBody, result } = await handshake(t, [AuthType.NONE], { readOnly: true });
  t.deepEqual(procs, [RemoteProc.AUTH_LIST, RemoteProc.CONNECT_SUPPORTS_FEATURE, RemoteProc.CONNECT_OPEN]);
  // present=1, "qemu:///system", flags=1 (VIR_CONNECT_RO)
  t.deepEqual(openBody, hex('00 00 00 01 | 00 00 00 0e | 71 65 6d 75 | 3a 2f 2f 2f | 73 79 73 74 | 65 6d 00 00 | 00 00 00 01'));
  t.false((result as LibvirtClient).isClosed);
  await (result as LibvirtClient).close();
});

test('handshake: polkit is completed with AUTH_POLKIT; keepalive: false skips the negotiation', async (t) => {
  const { procs, result } = await handshake(t, [AuthType.POLKIT], { keepalive: false });
  t.deepEqual(procs, [RemoteProc.AUTH_LIST, RemoteProc.AUTH_POLKIT, RemoteProc.CONNECT_OPEN]);
  await (result as LibvirtClient).close();
});

test('handshake: a daemon that demands SASL is refused with a clear AuthError and nothing else is sent', async (t) => {
  const { procs, result } = await handshake(t, [AuthType.SASL]);
  t.true(result instanceof AuthError);
  t.regex((result as Error).message, /requires SASL authentication, which this client does not implement/);
  t.deepEqual(procs, [RemoteProc.AUTH_LIST]);
});
