// The errors the client raises. Every failure a caller can see is one of these classes
// (or an AbortSignal's own reason when the caller aborted a call).
import { ERROR_LEVEL_NAMES, nameOf } from './protocol.js';

/** A remote_error reply from the daemon (§3.4): the call failed on the server side. */
export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  constructor(
    message: string,
    /** virErrorNumber, e.g. 42 = VIR_ERR_NO_DOMAIN (ErrorCode in protocol.ts). */
    readonly code: number,
    /** virErrorDomain: where the error arose, e.g. 10 = QEMU (ErrorDomain in protocol.ts). */
    readonly domain: number,
    /** virErrorLevel: 0 none, 1 warning, 2 error. */
    readonly level: number,
  ) {
    super(message);
  }

  get levelName(): string {
    return nameOf(ERROR_LEVEL_NAMES, this.level);
  }
}

/** The peer broke the protocol: bad length word, bad header, undecodable XDR. The connection is closed. */
export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
}

/** A packet announced longer than the receiver accepts (its length word), refused before anything is allocated for it. */
export class PacketTooLargeError extends ProtocolError {
  override readonly name = 'PacketTooLargeError';
  constructor(
    readonly length: number,
    readonly maxPacket: number,
  ) {
    super(`length word ${length} exceeds the maximum packet size ${maxPacket}`);
  }
}

/** Why a connection ended. */
export type CloseReason =
  /** The caller closed it. */
  | 'client'
  /** The daemon closed the socket. */
  | 'eof'
  /** A socket error (reset, TLS failure, …). */
  | 'error'
  /** Our keepalive probes went unanswered. */
  | 'keepalive'
  /** Calls kept missing their deadlines while the daemon answered nothing at all (one without keepalive, gone silent). */
  | 'timeout'
  /** The daemon sent something we must not accept (ProtocolError). */
  | 'protocol';

/** Rejects every call still pending (or issued) when the connection ends. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  constructor(
    readonly reason: CloseReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const isTimeout = (reason: unknown): boolean => (reason as { name?: unknown } | undefined)?.name === 'TimeoutError';

/** The caller's AbortSignal ended a call (or connect) before it completed; `cause` is the signal's reason. */
export class CallAbortedError extends Error {
  override readonly name = 'CallAbortedError';
  /** Whether the signal was a deadline (AbortSignal.timeout) rather than a cancellation. */
  readonly timedOut: boolean;

  constructor(
    /** The procedure, e.g. CONNECT_GET_ALL_DOMAIN_STATS, or 'connect'. */
    readonly procedure: string,
    reason: unknown,
    /**
     * Resolves when the daemon is done with the abandoned call: its late reply arrived, or the connection ended.
     * Until then libvirtd may still hold what the call holds (a domain's job, while QEMU does not answer).
     */
    readonly daemonDone: Promise<void> = Promise.resolve(),
  ) {
    super(`libvirt ${procedure} ${isTimeout(reason) ? 'timed out' : 'was aborted'}`, { cause: reason });
    this.timedOut = isTimeout(reason);
  }
}

/** The URI is not one this client can connect to, or a connect option is invalid. */
export class UriError extends Error {
  override readonly name = 'UriError';
}

/** The daemon asks for an authentication method this client does not implement (SASL). */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** The consumer of an event iterator fell behind by more than its queue allows; events were lost. */
export class EventQueueOverflowError extends Error {
  override readonly name = 'EventQueueOverflowError';
}
