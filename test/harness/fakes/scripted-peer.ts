// An in-process peer on a real unix socket that plays the daemon's side byte by byte, for the behaviours a
// healthy libvirtd cannot be made to show (bad frames, stray serials, silence). Real-daemon tests are in
// test/integration/.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteClient } from '../../../libvirt/calls.js';
import { FrameReader, type Header, decodePacket } from '../../../libvirt/framing.js';
import type { RpcLimits } from '../../../libvirt/rpc.js';

export interface ScriptedPeer {
  readonly client: RemoteClient;
  /** The daemon side of the connection. */
  readonly peer: net.Socket;
  /** Headers of the packets the client sent, in order. */
  readonly received: Header[];
  /** Resolves with the header of the next packet the client sends (or one already received and not yet taken). */
  nextPacket(): Promise<Header>;
  dispose(): void;
}

export async function scriptedPeer(limits?: RpcLimits): Promise<ScriptedPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'libvirt-peer-'));
  const path = join(dir, 'sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const socket = net.createConnection({ path });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const peer = await accepted;
  const received: Header[] = [];
  const waiting: ((h: Header) => void)[] = [];
  let taken = 0;
  const frames = new FrameReader();
  peer.on('data', (chunk: Buffer) => {
    for (const packet of frames.push(chunk)) {
      received.push(decodePacket(packet).header);
      waiting.shift()?.(received[taken++]!);
    }
  });
  peer.on('error', () => undefined);
  return {
    client: new RemoteClient('test+unix:///default', false, socket, limits),
    peer,
    received,
    nextPacket: () => (taken < received.length ? Promise.resolve(received[taken++]!) : new Promise((resolve) => waiting.push(resolve))),
    dispose: () => {
      peer.destroy();
      socket.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DaemonConnection {
  /** 1 for the first connection the daemon accepted, 2 for the next, … */
  readonly index: number;
  readonly socket: net.Socket;
}

export interface ScriptedDaemon {
  /** A URI reaching this daemon, e.g. uri('/system'). */
  uri(driverPath: string): string;
  /** Stops listening and drops every connection, as a libvirtd that went away. */
  stop(): Promise<void>;
  /** Listens again on the same socket path. */
  restart(): Promise<void>;
  /** Writes a frame (an event) to every connected client. */
  broadcast(frame: Buffer): void;
  dispose(): void;
}

/** A unix-socket listener that answers every packet a client sends with `answer(header, body, connection)`, and can push events. */
export async function scriptedDaemon(
  answer: (header: Header, body: Buffer, connection: DaemonConnection) => Buffer[],
): Promise<ScriptedDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'libvirt-daemon-'));
  const path = join(dir, 'sock');
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | undefined;
  const listen = async (): Promise<void> => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      const connection = { index: ++accepted, socket };
      const frames = new FrameReader();
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', (chunk: Buffer) => {
        for (const packet of frames.push(chunk)) {
          for (const out of answer(decodePacket(packet).header, packet.subarray(28), connection)) socket.write(out);
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(path, resolve));
  };
  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    const closing = server;
    server = undefined;
    if (closing) await new Promise((resolve) => closing.close(resolve));
  };
  await listen();
  return {
    uri: (driverPath) => `qemu+unix://${driverPath}?socket=${path}`,
    stop,
    restart: listen,
    broadcast: (frame) => {
      for (const s of sockets) s.write(frame);
    },
    dispose: () => {
      void stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
