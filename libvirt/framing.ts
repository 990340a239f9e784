// Packet framing (reference §1.2–1.3, §1.7): a 4-byte big-endian length word that counts itself,
// a 24-byte header, then the XDR payload. The length word is checked against the protocol limit
// the moment its 4 bytes arrive, before any buffer is sized from it; a bad one is a ProtocolError
// after which the stream cannot be resynchronised (there is no start marker), so the caller closes.
import { ProtocolError } from './errors.js';
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

/** Splits a packet (as returned by FrameReader, length word included) into header and payload. */
export function decodePacket(packet: Buffer): Packet {
  if (packet.length < Limits.PACKET_MIN) {
    throw new ProtocolError(`packet of ${packet.length} bytes is shorter than a header`);
  }
  const r = new XdrReader(packet.subarray(Limits.LENGTH_WORD, Limits.PACKET_MIN));
  const header: Header = {
    prog: r.uint(),
    vers: r.uint(),
    proc: r.int(),
    type: r.int(),
    serial: r.uint(),
    status: r.int(),
  };
  return { header, body: new XdrReader(packet.subarray(Limits.PACKET_MIN)) };
}

/** Validates a length word: the total packet size, length word included. */
export function checkLengthWord(length: number, maxPacket: number = Limits.PACKET_MAX): void {
  if (length < Limits.PACKET_MIN) {
    throw new ProtocolError(`length word ${length} is below the minimum packet size ${Limits.PACKET_MIN}`);
  }
  if (length > maxPacket) {
    throw new ProtocolError(`length word ${length} exceeds the maximum packet size ${maxPacket}`);
  }
}

/**
 * Reassembles packets from stream chunks. Holds at most one packet plus the tail of the last chunk,
 * so memory is bounded by the protocol limit no matter what the peer announces.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length word of the packet being assembled, once its 4 bytes are in. */
  private expected: number | undefined;

  constructor(private readonly maxPacket: number = Limits.PACKET_MAX) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk; returns the packets it completed (each including its length word). Throws ProtocolError. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const packets: Buffer[] = [];
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < Limits.LENGTH_WORD) break;
        const length = this.peekLengthWord();
        checkLengthWord(length, this.maxPacket);
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      packets.push(this.take(this.expected));
      this.expected = undefined;
    }
    return packets;
  }

  private peekLengthWord(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const word = Buffer.alloc(4);
    let filled = 0;
    for (const c of this.chunks) {
      filled += c.copy(word, filled, 0, Math.min(c.length, 4 - filled));
      if (filled === 4) break;
    }
    return word.readUInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const used = c.copy(out, filled, 0, Math.min(c.length, n - filled));
      filled += used;
      if (used === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(used);
    }
    return out;
  }
}
