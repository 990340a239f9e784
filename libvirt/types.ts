// Public API of the libvirt remote-protocol client: what the exporter and the event agent code against.
// The numbers behind the names (procedures, enums, flags) live in protocol.ts; the error classes in errors.ts.
import type { CloseReason } from './errors.js';
import type { DomainEventKind } from './protocol.js';

export type { CloseReason } from './errors.js';
export type { DomainEventKind } from './protocol.js';
export {
  LibvirtError,
  ProtocolError,
  ConnectionClosedError,
  CallAbortedError,
  UriError,
  AuthError,
  EventQueueOverflowError,
} from './errors.js';

/** A domain as the daemon names it. Key domains by `uuid`; `id` is −1 for an inactive domain and not stable across restarts. */
export interface DomainRef {
  readonly name: string;
  /** Canonical text form, lower case: `4dea22b3-1d52-d8f3-2516-782e98ab3fa0`. */
  readonly uuid: string;
  readonly id: number;
}

/**
 * One stats parameter's value as read from the columns (domain-stats.ts): every number type → number (64-bit
 * counters as the nearest double: they are exported as doubles anyway), BOOLEAN → boolean, STRING → string.
 */
export type StatsParamValue = number | string | boolean;

/**
 * The parameters of one GET_ALL_DOMAIN_STATS reply, a column per attribute (domain-stats.ts decodes and reads
 * them): no object per parameter. Parameter i of a record is its name's key (`block.<n>.rd.bytes`), the
 * index of its group entry (`3` of `block.3.rd.bytes`, NO_INDEX for a name without one), its wire type and
 * its value; a STRING's value is its position in `strings`.
 */
export interface StatsColumns {
  readonly keys: Uint16Array;
  readonly indexes: Uint32Array;
  readonly types: Uint8Array;
  readonly values: Float64Array;
  readonly strings: readonly string[];
}

/** One record of GET_ALL_DOMAIN_STATS: its parameters are `columns`' positions first…end − 1, in wire order. */
export interface DomainStatsRecord {
  readonly domain: DomainRef;
  readonly columns: StatsColumns;
  readonly first: number;
  readonly end: number;
}

/** DOMAIN_GET_INFO. */
export interface DomainInfo {
  /** virDomainState (DomainState in protocol.ts). */
  readonly state: number;
  readonly maxMemoryKiB: bigint;
  readonly memoryKiB: bigint;
  readonly vcpus: number;
  readonly cpuTimeNs: bigint;
}

/**
 * DOMAIN_GET_CPU_STATS of the whole domain (start_cpu −1): the CPU time of all its threads by libvirt's cgroup
 * accounting, in ns (the cpu-total stats group's cpu.time, cpu.user, cpu.system). What the host does not
 * account is absent.
 */
export interface DomainCpuTotals {
  readonly cpuTimeNs?: number;
  readonly userTimeNs?: number;
  readonly systemTimeNs?: number;
}

/** One online vCPU in DOMAIN_GET_VCPUS (remote_vcpu_info). */
export interface VcpuInfo {
  readonly number: number;
  /** virVcpuState: 0 offline, 1 running, 2 blocked. */
  readonly state: number;
  /** CPU time of the vCPU's host thread, ns. */
  readonly cpuTimeNs: number;
  /** The host CPU it runs on, −1 when unknown. */
  readonly cpu: number;
}

/** DOMAIN_GET_STATE, with the names of libvirt's enums (protocol.ts; 'unknown' for values newer than our tables). */
export interface DomainStateInfo {
  readonly state: number;
  readonly stateName: string;
  readonly reason: number;
  readonly reasonName: string;
}

interface DomainEventBase {
  /** The daemon-assigned registration this event belongs to (registerDomainEvent's result). */
  readonly callbackId: number;
  readonly domain: DomainRef;
}

/** VIR_DOMAIN_EVENT_ID_LIFECYCLE: `event`/`detail` numbers with libvirt's names (e.g. 'stopped'/'failed'). */
export interface LifecycleEvent extends DomainEventBase {
  readonly kind: 'lifecycle';
  readonly event: number;
  readonly eventName: string;
  readonly detail: number;
  readonly detailName: string;
}

export interface RebootEvent extends DomainEventBase {
  readonly kind: 'reboot';
}

export interface WatchdogEvent extends DomainEventBase {
  readonly kind: 'watchdog';
  readonly action: number;
  /** 'none' | 'pause' | 'reset' | 'poweroff' | 'shutdown' | 'debug' | 'injectnmi' | 'unknown'. */
  readonly actionName: string;
}

export interface IoErrorEvent extends DomainEventBase {
  readonly kind: 'io-error';
  readonly srcPath: string;
  readonly devAlias: string;
  readonly action: number;
  /** 'none' | 'pause' | 'report' | 'unknown'. */
  readonly actionName: string;
}

export interface IoErrorReasonEvent extends DomainEventBase {
  readonly kind: 'io-error-reason';
  readonly srcPath: string;
  readonly devAlias: string;
  readonly action: number;
  readonly actionName: string;
  /** '' (unknown), 'enospc', 'message', … as QEMU reports it. */
  readonly reason: string;
}

export interface ControlErrorEvent extends DomainEventBase {
  readonly kind: 'control-error';
}

interface BlockJobFields {
  readonly jobType: number;
  /** 'unknown' | 'pull' | 'copy' | 'commit' | 'active_commit' | 'backup'. */
  readonly jobTypeName: string;
  readonly status: number;
  /** 'completed' | 'failed' | 'canceled' | 'ready' | 'unknown'. */
  readonly statusName: string;
}

/** VIR_DOMAIN_EVENT_ID_BLOCK_JOB: the disk is identified by its source path. */
export interface BlockJobEvent extends DomainEventBase, BlockJobFields {
  readonly kind: 'block-job';
  readonly path: string;
}

/** VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2: the disk is identified by its target name (`vda`). */
export interface BlockJob2Event extends DomainEventBase, BlockJobFields {
  readonly kind: 'block-job-2';
  readonly target: string;
}

/** A decoded domain event; `kind` equals the DomainEventKind it was registered as. */
export type DomainEvent =
  | LifecycleEvent
  | RebootEvent
  | WatchdogEvent
  | IoErrorEvent
  | IoErrorReasonEvent
  | ControlErrorEvent
  | BlockJobEvent
  | BlockJob2Event;

/** How and why a connection ended; delivered exactly once. */
export interface CloseInfo {
  readonly reason: CloseReason;
  /** The underlying failure (absent for a client close or a clean EOF). */
  readonly error?: Error;
}

/** TLS material; unset fields fall back to libvirt's default PKI paths (DefaultPki in protocol.ts). */
export interface TlsOptions {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Name to verify the server certificate against; default: the URI host. */
  readonly servername?: string;
}

/** Client-side keepalive: after `intervalMs` without any packet from the daemon, ping; after `count` unanswered pings, close. */
export interface KeepaliveOptions {
  readonly intervalMs: number;
  readonly count: number;
}

export interface ConnectOptions {
  /** Open with VIR_CONNECT_RO. The `-ro` unix socket is chosen for `qemu:///system` URIs. Default false. */
  readonly readOnly?: boolean;
  /** Aborts connecting and the handshake. */
  readonly signal?: AbortSignal;
  readonly tls?: TlsOptions;
  /**
   * Keepalive, enabled when the daemon supports it (CONNECT_SUPPORTS_FEATURE 10, which also makes the daemon
   * ping us; we always answer). `false` disables it. Default { intervalMs: 5000, count: 5 }.
   */
  readonly keepalive?: KeepaliveOptions | false;
  /**
   * Largest packet accepted from the daemon, length word included; a longer one is a ProtocolError that closes
   * the connection, before anything is allocated for it. Default and upper bound: Limits.PACKET_MAX (32 MiB + 4).
   */
  readonly maxPacketBytes?: number;
}

export interface CallOptions {
  /** Deadline or cancellation for this call only: it rejects with CallAbortedError, the connection stays up. */
  readonly signal?: AbortSignal;
  /**
   * Called once when the first bytes of the reply arrive before its last: the daemon has answered, and what is
   * left is transfer and decoding (which for a reply of tens of MiB takes a while).
   */
  readonly onAnswering?: () => void;
}

export interface GetAllDomainStatsOptions extends CallOptions {
  /** OR of StatsGroup bits; 0 (default) = every group the driver supports. */
  readonly stats?: number;
  /** OR of StatsFlag bits (filters, NOWAIT, BACKING, ENFORCE_STATS). Default 0. */
  readonly flags?: number;
  /** Exactly these domains instead of all (filter flags may then be refused by the daemon). */
  readonly domains?: readonly DomainRef[];
}

export interface RegisterEventOptions extends CallOptions {
  /** Only events of this domain; default all domains. */
  readonly domain?: DomainRef;
}

export interface EventStreamOptions {
  /** Events buffered for a slow consumer before the iterator fails with EventQueueOverflowError. Default 10000. */
  readonly maxQueued?: number;
  /** Ends the iteration. */
  readonly signal?: AbortSignal;
}

/** A connection to one libvirt daemon; obtained from `connect(uri, options)` in client.ts. */
export interface LibvirtClient {
  /** The URI given to connect(). */
  readonly uri: string;
  readonly readOnly: boolean;
  /** Resolves once, when the connection has ended, with the reason. */
  readonly closed: Promise<CloseInfo>;
  readonly isClosed: boolean;
  /** How long the oldest unanswered keepalive ping has waited, ms; 0 when none is outstanding. */
  readonly unansweredPingMs: number;

  /** Daemon libvirt version, major × 1 000 000 + minor × 1 000 + micro. */
  getLibVersion(options?: CallOptions): Promise<number>;
  /** Hypervisor version in the same encoding (QEMU's for the QEMU driver). */
  getVersion(options?: CallOptions): Promise<number>;
  getHostname(options?: CallOptions): Promise<string>;
  supportsFeature(feature: number, options?: CallOptions): Promise<boolean>;
  /** flags: OR of ListDomainsFlag; 0 = all. */
  listAllDomains(flags?: number, options?: CallOptions): Promise<DomainRef[]>;
  getAllDomainStats(options?: GetAllDomainStatsOptions): Promise<DomainStatsRecord[]>;
  domainGetInfo(domain: DomainRef, options?: CallOptions): Promise<DomainInfo>;
  domainGetState(domain: DomainRef, options?: CallOptions): Promise<DomainStateInfo>;
  /** A running domain's CPU times from its cgroup; libvirt answers without its job or QEMU's monitor. */
  domainGetCpuTotals(domain: DomainRef, options?: CallOptions): Promise<DomainCpuTotals>;
  /**
   * A running domain's online vCPUs (at most `maxInfo`) and their threads' CPU times, read from /proc; libvirt
   * answers without the domain's job or QEMU's monitor.
   */
  domainGetVcpus(domain: DomainRef, maxInfo: number, options?: CallOptions): Promise<VcpuInfo[]>;
  /** flags: OR of DomainXmlFlag (SECURE and MIGRATABLE are refused on a read-only connection). */
  domainGetXmlDesc(domain: DomainRef, flags?: number, options?: CallOptions): Promise<string>;
  /**
   * The domain XML if it contains `needle`, else undefined. The reply's bytes are searched before any string is
   * made of them: looking through thousands of domains for a few, only those few become strings.
   */
  domainGetXmlDescContaining(domain: DomainRef, needle: string, flags?: number, options?: CallOptions): Promise<string | undefined>;
  /** Rejects with LibvirtError VIR_ERR_NO_DOMAIN when no domain has that name. */
  domainLookupByName(name: string, options?: CallOptions): Promise<DomainRef>;
  domainLookupByUuid(uuid: string, options?: CallOptions): Promise<DomainRef>;

  /** Registers one event kind; resolves to the callbackId the daemon stamps on these events. */
  registerDomainEvent(kind: DomainEventKind, options?: RegisterEventOptions): Promise<number>;
  deregisterDomainEvent(callbackId: number, options?: CallOptions): Promise<void>;
  /** Events from now on, until the connection closes (the iterator then ends) or `signal` aborts. */
  events(options?: EventStreamOptions): AsyncIterableIterator<DomainEvent>;

  on(name: 'event', listener: (event: DomainEvent) => void): this;
  on(name: 'close', listener: (info: CloseInfo) => void): this;
  off(name: 'event', listener: (event: DomainEvent) => void): this;
  off(name: 'close', listener: (info: CloseInfo) => void): this;

  /** CONNECT_CLOSE, then ends the socket; pending calls reject with ConnectionClosedError('client'). Idempotent. */
  close(): Promise<void>;
}

export type Connect = (uri: string, options?: ConnectOptions) => Promise<LibvirtClient>;
