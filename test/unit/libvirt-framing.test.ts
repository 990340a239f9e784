// The byte-level worked examples of the reference (§9), encoded and decoded by our code.
import test from 'ava';
import { Calls } from '../../libvirt/calls.js';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { decodeDomainEvent } from '../../libvirt/event-stream.js';
import { LibvirtError, ProtocolError } from '../../libvirt/errors.js';
import { FrameReader, type Header, decodePacket, encodePacket } from '../../libvirt/framing.js';
import { KeepaliveProc, Limits, MessageStatus, MessageType, Program, RemoteProc } from '../../libvirt/protocol.js';
import { readRemoteError } from '../../libvirt/structs.js';
import { encodeCall } from '../harness/fakes/call-packets.js';
import { hex } from '../harness/hex.js';


test('§9.1 GET_LIB_VERSION call and reply', (t) => {
  t.deepEqual(encodeCall(Calls.getLibVersion, 5, undefined), hex('00 00 00 1c | 20 00 80 86 | 00 00 00 01 | 00 00 00 9d | 00 00 00 00 | 00 00 00 05 | 00 00 00 00'));
  const { header, body } = decodePacket(hex('00 00 00 24 | 20 00 80 86 | 00 00 00 01 | 00 00 00 9d | 00 00 00 01 | 00 00 00 05 | 00 00 00 00 | 00 00 00 00 | 00 98 96 80'));
  t.deepEqual(header, { prog: Program.REMOTE, vers: 1, proc: RemoteProc.CONNECT_GET_LIB_VERSION, type: MessageType.REPLY, serial: 5, status: 0 });
  t.is(Calls.getLibVersion.decode(body), 10000000);
});

test('§9.2 AUTH_LIST, SUPPORTS_FEATURE and CONNECT_OPEN', (t) => {
  t.deepEqual(encodeCall(Calls.authList, 1, undefined), hex('00 00 00 1c | 20 00 80 86 | 00 00 00 01 | 00 00 00 42 | 00 00 00 00 | 00 00 00 01 | 00 00 00 00'));
  const auth = decodePacket(hex('00 00 00 24 | 20 00 80 86 | 00 00 00 01 | 00 00 00 42 | 00 00 00 01 | 00 00 00 01 | 00 00 00 00 | 00 00 00 01 | 00 00 00 00'));
  t.deepEqual(Calls.authList.decode(auth.body), [0]);

  t.deepEqual(encodeCall(Calls.supportsFeature, 3, 10), hex('00 00 00 20 | 20 00 80 86 | 00 00 00 01 | 00 00 00 3c | 00 00 00 00 | 00 00 00 03 | 00 00 00 00 | 00 00 00 0a'));
  const feature = decodePacket(hex('00 00 00 20 | 20 00 80 86 | 00 00 00 01 | 00 00 00 3c | 00 00 00 01 | 00 00 00 03 | 00 00 00 00 | 00 00 00 01'));
  t.true(Calls.supportsFeature.decode(feature.body));

  t.deepEqual(encodeCall(Calls.connectOpen, 2, { name: 'qemu:///system', flags: 0 }), hex(`
    00 00 00 38 | 20 00 80 86 | 00 00 00 01 | 00 00 00 01 | 00 00 00 00 | 00 00 00 02 | 00 00 00 00 |
    00 00 00 01 | 00 00 00 0e | 71 65 6d 75 | 3a 2f 2f 2f | 73 79 73 74 | 65 6d 00 00 | 00 00 00 00`));
  const open = decodePacket(hex('00 00 00 1c | 20 00 80 86 | 00 00 00 01 | 00 00 00 01 | 00 00 00 01 | 00 00 00 02 | 00 00 00 00'));
  t.is(open.body.remaining, 0);
  t.is(Calls.connectOpen.decode(open.body), undefined);
});

test('§9.3 a failed call decodes to a LibvirtError', (t) => {
  const { header, body } = decodePacket(hex(`
    00 00 00 5c | 20 00 80 86 | 00 00 00 01 | 00 00 00 18 | 00 00 00 01 | 00 00 00 07 | 00 00 00 01 |
    00 00 00 2a | 00 00 00 0a | 00 00 00 01 | 00 00 00 10 | 44 6f 6d 61 | 69 6e 20 6e | 6f 74 20 66 | 6f 75 6e 64 |
    00 00 00 02 | 00 00 00 00 | 00 00 00 00 | 00 00 00 00 | 00 00 00 00 | ff ff ff ff | ff ff ff ff | 00 00 00 00`));
  t.is(header.status, MessageStatus.ERROR);
  const err = readRemoteError(body);
  t.true(err instanceof LibvirtError);
  t.like(err, { message: 'Domain not found', code: 42, domain: 10, level: 2, levelName: 'error' });
});

test('§9.4 keepalive PING and PONG', (t) => {
  const ping = { prog: Program.KEEPALIVE, vers: 1, proc: KeepaliveProc.PING, type: MessageType.MESSAGE, serial: 0, status: 0 };
  t.deepEqual(encodePacket(ping), hex('00 00 00 1c | 6b 65 65 70 | 00 00 00 01 | 00 00 00 01 | 00 00 00 02 | 00 00 00 00 | 00 00 00 00'));
  t.deepEqual(encodePacket({ ...ping, proc: KeepaliveProc.PONG }), hex('00 00 00 1c | 6b 65 65 70 | 00 00 00 01 | 00 00 00 02 | 00 00 00 02 | 00 00 00 00 | 00 00 00 00'));
});

test('§9.5 GET_ALL_DOMAIN_STATS call', (t) => {
  t.deepEqual(
    encodeCall(Calls.getAllDomainStats, 9, { domains: [], stats: 7, flags: 1 }),
    hex('00 00 00 28 | 20 00 80 86 | 00 00 00 01 | 00 00 01 58 | 00 00 00 00 | 00 00 00 09 | 00 00 00 00 | 00 00 00 00 | 00 00 00 07 | 00 00 00 01'),
  );
  // ENFORCE_STATS is 1<<31: must go out as 0x80000000, not a negative int.
  const enforce = encodeCall(Calls.getAllDomainStats, 9, { domains: [], stats: 1, flags: 0x80000000 | 0x20000000 });
  t.is(enforce.subarray(-4).toString('hex'), 'a0000000');
});

test('§9.5 a stats reply with one record decodes field by field', (t) => {
  const reply = hex(`
    00 00 00 70 | 20 00 80 86 | 00 00 00 01 | 00 00 01 58 | 00 00 00 01 | 00 00 00 09 | 00 00 00 00 |
    00 00 00 01 | 00 00 00 03 76 6d 31 00 | 4d ea 22 b3 1d 52 d8 f3 25 16 78 2e 98 ab 3f a0 | 00 00 00 03 |
    00 00 00 02 |
    00 00 00 0b | 73 74 61 74 | 65 2e 73 74 | 61 74 65 00 | 00 00 00 01 | 00 00 00 01
    00 00 00 08 | 63 70 75 2e | 74 69 6d 65 | 00 00 00 04 | 00 00 00 1c | be 99 1a 08`);
  t.is(reply.readUInt32BE(0), reply.length);
  const records = Calls.getAllDomainStats.decode(decodePacket(reply).body);
  t.is(records.length, 1);
  t.deepEqual(records[0]!.domain, { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 });
  t.deepEqual([...paramsOf(records[0]!)], [['state.state', 1], ['cpu.time', 123456789000]]);
});

test('§9.6 REGISTER_ANY and a lifecycle event', (t) => {
  t.deepEqual(
    encodeCall(Calls.registerEvent, 10, { eventId: 0, domain: undefined }),
    hex('00 00 00 24 | 20 00 80 86 | 00 00 00 01 | 00 00 01 3c | 00 00 00 00 | 00 00 00 0a | 00 00 00 00 | 00 00 00 00 | 00 00 00 00'),
  );
  const reply = decodePacket(hex('00 00 00 20 | 20 00 80 86 | 00 00 00 01 | 00 00 01 3c | 00 00 00 01 | 00 00 00 0a | 00 00 00 00 | 00 00 00 01'));
  t.is(Calls.registerEvent.decode(reply.body), 1);
  const { header, body } = decodePacket(hex(`
    00 00 00 44 | 20 00 80 86 | 00 00 00 01 | 00 00 01 3e | 00 00 00 02 | 00 00 00 01 | 00 00 00 00 |
    00 00 00 01 | 00 00 00 03 | 76 6d 31 00 | 4d ea 22 b3 | 1d 52 d8 f3 | 25 16 78 2e | 98 ab 3f a0 | 00 00 00 03 | 00 00 00 02 | 00 00 00 00`));
  t.like(header, { type: MessageType.MESSAGE, serial: 1, proc: 318 });
  t.deepEqual(decodeDomainEvent(header.proc, body), {
    kind: 'lifecycle', callbackId: 1,
    domain: { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 },
    event: 2, eventName: 'started', detail: 0, detailName: 'booted',
  });
});

test('FrameReader reassembles packets split at every byte and packed together', (t) => {
  const a = encodeCall(Calls.getLibVersion, 1, undefined);
  const b = encodeCall(Calls.connectOpen, 2, { name: 'test:///default', flags: 1 });
  const stream = Buffer.concat([a, b, a]);
  const bytewise = new FrameReader();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...bytewise.push(stream.subarray(i, i + 1)));
  t.deepEqual(got, [a, b, a]);
  t.is(bytewise.bufferedBytes, 0);
  t.deepEqual(new FrameReader().push(stream), [a, b, a]);
});

test('FrameReader rejects a length word below 28 or above 32 MiB + 4 as soon as its 4 bytes arrive', (t) => {
  for (const bad of [0, 4, 27, Limits.PACKET_MAX + 1, 0xffffffff]) {
    const word = Buffer.alloc(4);
    word.writeUInt32BE(bad);
    const reader = new FrameReader();
    t.throws(() => reader.push(word), { instanceOf: ProtocolError }, `length ${bad}`);
  }
  const word = Buffer.alloc(4);
  word.writeUInt32BE(Limits.PACKET_MAX);
  t.deepEqual(new FrameReader().push(word), [], 'the largest legal length waits for its bytes');
});

test('FrameReader hands a long packet\'s header first and streams its payload to the sink it is given, holding none of it', (t) => {
  const a = encodeCall(Calls.getLibVersion, 1, undefined);
  const long = encodeCall(Calls.connectOpen, 2, { name: 'x'.repeat(300), flags: 1 });
  const stream = Buffer.concat([a, long, a]);
  const events: string[] = [];
  const fed: Buffer[] = [];
  const reader = new FrameReader();
  const handler = {
    packet: (packet: Buffer) => events.push(`packet ${decodePacket(packet).header.serial}`),
    begins: (header: Header, payloadBytes: number) => {
      events.push(`begins ${header.serial} ${payloadBytes}`);
      return header.serial === 2 ? { feed: (bytes: Buffer) => void fed.push(Buffer.from(bytes)), end: () => void events.push('end') } : undefined;
    },
  };
  for (let at = 0; at < stream.length; at += 7) {
    reader.receive(stream.subarray(at, at + 7), handler);
    t.true(reader.bufferedBytes <= Limits.PACKET_MIN, 'no more than a header is held');
  }
  // The header-only packets were cut too: whole once their header is there, with no payload to stream.
  t.deepEqual(events, ['packet 1', `begins 2 ${long.length - Limits.PACKET_MIN}`, 'end', 'packet 1']);
  t.deepEqual(Buffer.concat(fed), long.subarray(Limits.PACKET_MIN));
});

test('FrameReader refuses an over-long length word before any sink is asked for or anything is sized from it', (t) => {
  const word = Buffer.alloc(Limits.PACKET_MIN);
  word.writeUInt32BE(Limits.PACKET_MAX + 1);
  let asked = 0;
  const handler = { packet: () => undefined, begins: () => (asked++, undefined) };
  for (const pieces of [[word], [word.subarray(0, 2), word.subarray(2)]]) {
    const reader = new FrameReader();
    t.throws(() => pieces.forEach((piece) => reader.receive(piece, handler)), { instanceOf: ProtocolError, message: /exceeds the maximum packet size/ });
  }
  t.is(asked, 0);
});
