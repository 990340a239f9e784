// Packet framing (reference §1.2–1.3, §1.7): a 4-byte big-endian length word that counts itself,
// a 24-byte header, then the XDR payload. The length word is checked against the protocol limit
// the moment its 4 bytes arrive, before any buffer is sized from it; a bad one is a ProtocolError
// after which the stream cannot be resynchronised (there is no start marker), so the caller closes.
import { PacketTooLargeError, ProtocolError } from './errors.js';
import { Limits } from './protocol.js';
import { XdrReader, XdrWriter } from './xdr.js';

export interface Header {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/** One packet: its header and a reader positioned at the payload. */
export interface Packet {
  readonly header: Header;
  readonly body: XdrReader;
}

/** Encodes a whole packet, length word included. */
export function encodePacket(header: Header, writeBody?: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter(Limits.PACKET_MAX, 256);
  w.uint(0); // length, patched below
  w.uint(header.prog).uint(header.vers).int(header.proc).int(header.type).uint(header.serial).int(header.status);
  writeBody?.(w);
  w.patchUint(0, w.length);
  return w.finish();
}

/** The header of a packet (length word included) of at least PACKET_MIN bytes. */
function readHeader(packet: Buffer): Header {
  const r = new XdrReader(packet.subarray(Limits.LENGTH_WORD, Limits.PACKET_MIN));
  return { prog: r.uint(), vers: r.uint(), proc: r.int(), type: r.int(), serial: r.uint(), status: r.int() };
}

/** Splits a packet (as returned by FrameReader, length word included) into header and payload. */
export function decodePacket(packet: Buffer): Packet {
  if (packet.length < Limits.PACKET_MIN) {
    throw new ProtocolError(`packet of ${packet.length} bytes is shorter than a header`);
  }
  return { header: readHeader(packet), body: new XdrReader(packet.subarray(Limits.PACKET_MIN)) };
}

/** Validates a length word: the total packet size, length word included. */
function checkLengthWord(length: number, maxPacket: number = Limits.PACKET_MAX): void {
  if (length < Limits.PACKET_MIN) {
    throw new ProtocolError(`length word ${length} is below the minimum packet size ${Limits.PACKET_MIN}`);
  }
  if (length > maxPacket) throw new PacketTooLargeError(length, maxPacket);
}

/** Takes a packet's payload as it arrives, instead of the packet being buffered whole. Throws ProtocolError. */
export interface PayloadSink {
  feed(bytes: Buffer): void;
  /** After the payload's last byte. */
  end(): void;
}

/** A payload nobody wants (the late reply to an abandoned call): passed over, never held. */
export function skipPayload(atEnd: () => void): PayloadSink {
  return { feed: () => undefined, end: atEnd };
}

/** Where FrameReader.receive hands out what arrives, in stream order. */
export interface PacketHandler {
  /** A whole packet, length word included: a view of the chunk when it held the packet whole. */
  packet(packet: Buffer): void;
  /**
   * The header of a packet whose payload (`payloadBytes`) has not all arrived: a sink to take the payload as it
   * comes, or undefined to have the packet buffered whole and handed to packet().
   */
  begins(header: Header, payloadBytes: number): PayloadSink | undefined;
}

const BUFFER_WHOLE: PacketHandler['begins'] = () => undefined;

/**
 * Reassembles packets from stream chunks. A packet that a chunk holds whole is handed out as a view of it. A
 * longer one is announced by its header first: its payload then goes to the handler's sink as it arrives, or into
 * one buffer of its checked length, so it is held once (not as chunks plus a copy). Memory is bounded by
 * `maxPacket` no matter what the peer announces.
 */
export class FrameReader {
  /** The length word and header of the next packet while they straddle chunks. */
  private readonly head = Buffer.alloc(Limits.PACKET_MIN);
  private headFilled = 0;
  /** The packet being assembled, allocated at its checked length. */
  private packet: Buffer | undefined;
  private filled = 0;
  /** Where the payload of the packet being streamed goes, and how many of its bytes are still to come. */
  private sink: PayloadSink | undefined;
  private sinkLeft = 0;

  constructor(private readonly maxPacket: number = Limits.PACKET_MAX) {}

  get bufferedBytes(): number {
    return this.packet ? this.filled : this.headFilled;
  }

  /** Adds a chunk; returns the packets it completed (each including its length word), none streamed. Throws ProtocolError. */
  push(chunk: Buffer): Buffer[] {
    const packets: Buffer[] = [];
    this.receive(chunk, { packet: (packet) => packets.push(packet), begins: BUFFER_WHOLE });
    return packets;
  }

  /** Adds a chunk; hands what it completes or begins to `handler`, in order. Throws ProtocolError. */
  receive(chunk: Buffer, handler: PacketHandler): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.sink) {
        const n = Math.min(this.sinkLeft, chunk.length - at);
        const sink = this.sink;
        this.sinkLeft -= n;
        if (this.sinkLeft === 0) this.sink = undefined;
        sink.feed(chunk.subarray(at, at + n));
        at += n;
        if (this.sinkLeft === 0) sink.end();
        continue;
      }
      if (this.packet) {
        const n = Math.min(this.packet.length - this.filled, chunk.length - at);
        chunk.copy(this.packet, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === this.packet.length) {
          const packet = this.packet;
          this.packet = undefined;
          handler.packet(packet);
        }
        continue;
      }
      if (this.headFilled === 0 && chunk.length - at >= Limits.LENGTH_WORD) {
        const length = chunk.readUInt32BE(at);
        checkLengthWord(length, this.maxPacket);
        if (chunk.length - at >= length) {
          handler.packet(chunk.subarray(at, at + length));
          at += length;
          continue;
        }
      }
      const had = this.headFilled;
      const n = Math.min(Limits.PACKET_MIN - had, chunk.length - at);
      chunk.copy(this.head, had, at, at + n);
      this.headFilled += n;
      at += n;
      // Checked the moment its 4 bytes are there (again, if the chunk held them: that costs nothing).
      if (had < Limits.LENGTH_WORD && this.headFilled >= Limits.LENGTH_WORD) checkLengthWord(this.head.readUInt32BE(0), this.maxPacket);
      if (this.headFilled < Limits.PACKET_MIN) continue;
      this.headFilled = 0;
      this.begin(handler);
    }
  }

  /** The head is complete: the packet is streamed to a sink, or buffered whole. */
  private begin(handler: PacketHandler): void {
    const length = this.head.readUInt32BE(0);
    if (length === Limits.PACKET_MIN) return handler.packet(Buffer.from(this.head));
    const payloadBytes = length - Limits.PACKET_MIN;
    const sink = handler.begins(readHeader(this.head), payloadBytes);
    if (sink) {
      this.sink = sink;
      this.sinkLeft = payloadBytes;
      return;
    }
    this.packet = Buffer.allocUnsafe(length);
    this.head.copy(this.packet, 0);
    this.filled = Limits.PACKET_MIN;
  }
}
