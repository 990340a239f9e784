// Every number of libvirt's remote protocol this client uses, in one place.
// Sources: libvirt's src/rpc/virnetprotocol.x (§1 framing, §3.4 errors), src/rpc/virkeepaliveprotocol.x
// (§4 keepalive), src/remote/remote_protocol.x (§5 procedures and structs, append-only numbers),
// include/libvirt/libvirt-domain.h (§6 enums, §7 domain stats); XDR is RFC 4506 (§2). The § marks in
// libvirt/ name these topics.

/** §1.4 program numbers; every program is at version 1. */
export const Program = {
  REMOTE: 0x20008086,
  KEEPALIVE: 0x6b656570,
  QEMU: 0x20008087,
  LXC: 0x00068000,
  ADMIN: 0x06900690,
} as const;
export const PROGRAM_VERSION = 1;

/** §1.5 message types. */
export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;

/** §1.6 message status. */
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

/** §1.7 size limits. */
export const Limits = {
  /** Bytes of the length word that prefixes every packet. */
  LENGTH_WORD: 4,
  HEADER: 24,
  /** Max header + payload (VIR_NET_MESSAGE_MAX, 32 MiB); the length word adds 4 on top. */
  MESSAGE_MAX: 33554432,
  /** Smallest legal length word: length word + header. */
  PACKET_MIN: 28,
  /** Largest legal length word. */
  PACKET_MAX: 33554432 + 4,
  STRING_MAX: 4194304,
  DOMAIN_LIST_MAX: 16384,
  DOMAIN_STATS_PARAMS_MAX: 262144,
  AUTH_TYPE_LIST_MAX: 20,
  TUNABLE_PARAMS_MAX: 2048,
  UUID_BYTES: 16,
  /** DOMAIN_GET_VCPUS: entries (REMOTE_VCPUINFO_MAX) and bytes of CPU maps (REMOTE_CPUMAPS_MAX). */
  VCPUINFO_MAX: 16384,
  CPUMAPS_MAX: 8388608,
  /** DOMAIN_GET_CPU_STATS: parameters of a reply (REMOTE_DOMAIN_GET_CPU_STATS_MAX). */
  CPU_STATS_PARAMS_MAX: 2048,
} as const;

/** §5.2 remote program procedures (append-only in libvirt, valid for every daemon version that has them). */
export const RemoteProc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  CONNECT_GET_VERSION: 4,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_GET_INFO: 16,
  DOMAIN_GET_VCPUS: 20,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_LOOKUP_BY_UUID: 24,
  CONNECT_GET_HOSTNAME: 59,
  CONNECT_SUPPORTS_FEATURE: 60,
  AUTH_LIST: 66,
  AUTH_POLKIT: 70,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_GET_STATE: 212,
  DOMAIN_GET_CPU_STATS: 262,
  CONNECT_LIST_ALL_DOMAINS: 273,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  CONNECT_GET_ALL_DOMAIN_STATS: 344,
} as const;

/** §5.3 event message procedures this client decodes. */
export const EventProc = {
  LIFECYCLE: 318,
  REBOOT: 319,
  WATCHDOG: 321,
  IO_ERROR: 322,
  IO_ERROR_REASON: 324,
  CONTROL_ERROR: 325,
  BLOCK_JOB: 326,
  BLOCK_JOB_2: 339,
} as const;

/** §4 keepalive program procedures. */
export const KeepaliveProc = { PING: 1, PONG: 2 } as const;

/** §3.2 auth types returned by AUTH_LIST. */
export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

/** §5.2 CONNECT_SUPPORTS_FEATURE numbers used here. */
export const Feature = {
  PROGRAM_KEEPALIVE: 10,
  REMOTE_EVENT_CALLBACK: 14,
  REMOTE_CLOSE_CALLBACK: 15,
} as const;

/** §3.3 CONNECT_OPEN flags. */
export const ConnectFlag = { READ_ONLY: 1 } as const;

/** §2/§5.1 typed parameter union discriminants. */
export const TypedParamType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;

/** §5.2 CONNECT_LIST_ALL_DOMAINS flags (0 = all domains). */
export const ListDomainsFlag = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
} as const;

/** §7.1 stats groups (`stats` argument of GET_ALL_DOMAIN_STATS; 0 = all the driver supports). */
export const StatsGroup = {
  STATE: 1,
  CPU_TOTAL: 2,
  BALLOON: 4,
  VCPU: 8,
  INTERFACE: 16,
  BLOCK: 32,
  PERF: 64,
  IOTHREAD: 128,
  MEMORY: 256,
  DIRTYRATE: 512,
  VM: 1024,
} as const;

/** §7.2 GET_ALL_DOMAIN_STATS flags; the filter bits equal ListDomainsFlag. Unsigned: 1<<31 written as a literal. */
export const StatsFlag = {
  ...ListDomainsFlag,
  NOWAIT: 0x20000000,
  BACKING: 0x40000000,
  ENFORCE_STATS: 0x80000000,
} as const;

/** §5.2 DOMAIN_GET_XML_DESC flags. */
export const DomainXmlFlag = { SECURE: 1, INACTIVE: 2, UPDATE_CPU: 4, MIGRATABLE: 8 } as const;

/** §6.1 event IDs for REGISTER_ANY, and the message procedure each one produces. */
export const DomainEventId = {
  LIFECYCLE: 0,
  REBOOT: 1,
  WATCHDOG: 3,
  IO_ERROR: 4,
  IO_ERROR_REASON: 6,
  CONTROL_ERROR: 7,
  BLOCK_JOB: 8,
  BLOCK_JOB_2: 16,
} as const;

/** The event kinds this client can register, with their event ID and message procedure. */
export const DOMAIN_EVENT_KINDS = {
  lifecycle: { eventId: DomainEventId.LIFECYCLE, proc: EventProc.LIFECYCLE },
  reboot: { eventId: DomainEventId.REBOOT, proc: EventProc.REBOOT },
  watchdog: { eventId: DomainEventId.WATCHDOG, proc: EventProc.WATCHDOG },
  'io-error': { eventId: DomainEventId.IO_ERROR, proc: EventProc.IO_ERROR },
  'io-error-reason': { eventId: DomainEventId.IO_ERROR_REASON, proc: EventProc.IO_ERROR_REASON },
  'control-error': { eventId: DomainEventId.CONTROL_ERROR, proc: EventProc.CONTROL_ERROR },
  'block-job': { eventId: DomainEventId.BLOCK_JOB, proc: EventProc.BLOCK_JOB },
  'block-job-2': { eventId: DomainEventId.BLOCK_JOB_2, proc: EventProc.BLOCK_JOB_2 },
} as const;
export type DomainEventKind = keyof typeof DOMAIN_EVENT_KINDS;
export const DOMAIN_EVENT_KIND_NAMES = Object.keys(DOMAIN_EVENT_KINDS) as DomainEventKind[];

// Enum names are the lower-cased suffixes of libvirt's C constants, indexed by value.
// Daemons newer than these tables may send larger values: nameOf() then answers 'unknown'.

/** §6.2 virDomainEventType. */
export const LIFECYCLE_EVENT_NAMES = [
  'defined', 'undefined', 'started', 'suspended', 'resumed', 'stopped', 'shutdown', 'pmsuspended', 'crashed',
] as const;
export const LifecycleEvent = {
  DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5, SHUTDOWN: 6, PMSUSPENDED: 7, CRASHED: 8,
} as const;

/** §6.3 lifecycle detail names, by event value. */
export const LIFECYCLE_DETAIL_NAMES: readonly (readonly string[])[] = [
  ['added', 'updated', 'renamed', 'from_snapshot'],
  ['removed', 'renamed'],
  ['booted', 'migrated', 'restored', 'from_snapshot', 'wakeup', 'recreated'],
  ['paused', 'migrated', 'ioerror', 'watchdog', 'restored', 'from_snapshot', 'api_error', 'postcopy', 'postcopy_failed'],
  ['unpaused', 'migrated', 'from_snapshot', 'postcopy', 'postcopy_failed'],
  ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from_snapshot', 'recreated'],
  ['finished', 'guest', 'host'],
  ['memory', 'disk'],
  ['panicked', 'crashloaded'],
];

/** §6.4 virDomainEventWatchdogAction. */
export const WATCHDOG_ACTION_NAMES = ['none', 'pause', 'reset', 'poweroff', 'shutdown', 'debug', 'injectnmi'] as const;

/** §6.5 virDomainEventIOErrorAction. */
export const IO_ERROR_ACTION_NAMES = ['none', 'pause', 'report'] as const;

/** §6.6 block job type and status. */
export const BLOCK_JOB_TYPE_NAMES = ['unknown', 'pull', 'copy', 'commit', 'active_commit', 'backup'] as const;
export const BLOCK_JOB_STATUS_NAMES = ['completed', 'failed', 'canceled', 'ready'] as const;

/** §6.7 virDomainState and the reason names of each state. */
export const DOMAIN_STATE_NAMES = [
  'nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended',
] as const;
export const DomainState = {
  NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7,
} as const;
export const DOMAIN_STATE_REASON_NAMES: readonly (readonly string[])[] = [
  ['unknown'],
  ['unknown', 'booted', 'migrated', 'restored', 'from_snapshot', 'unpaused', 'migration_canceled', 'save_canceled',
    'wakeup', 'crashed', 'postcopy', 'postcopy_failed'],
  ['unknown'],
  ['unknown', 'user', 'migration', 'save', 'dump', 'ioerror', 'watchdog', 'from_snapshot', 'shutting_down',
    'snapshot', 'crashed', 'starting_up', 'postcopy', 'postcopy_failed', 'api_error'],
  ['unknown', 'user'],
  ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from_snapshot', 'daemon'],
  ['unknown', 'panicked'],
  ['unknown'],
];

/** §6.8 virVcpuState (`vcpu.<n>.state`). */
export const VCPU_STATE_NAMES = ['offline', 'running', 'blocked'] as const;

/** §3.4 virErrorLevel. */
export const ERROR_LEVEL_NAMES = ['none', 'warning', 'error'] as const;

/** §3.4 selected virErrorNumber values. */
export const ErrorCode = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  ACCESS_DENIED: 88,
} as const;

/** §3.4 selected virErrorDomain values. */
export const ErrorDomain = {
  NONE: 0, RPC: 7, QEMU: 10, REMOTE: 13, DOMAIN: 20, ACCESS: 55, POLKIT: 60,
} as const;

/** Default endpoints (§1.1). */
export const Endpoint = {
  TCP_PORT: 16509,
  TLS_PORT: 16514,
  UNIX_SOCKET: '/var/run/libvirt/libvirt-sock',
  UNIX_SOCKET_RO: '/var/run/libvirt/libvirt-sock-ro',
} as const;

/** libvirt's default client PKI paths for TLS (when running as root). */
export const DefaultPki = {
  CA_CERT: '/etc/pki/CA/cacert.pem',
  CLIENT_CERT: '/etc/pki/libvirt/clientcert.pem',
  CLIENT_KEY: '/etc/pki/libvirt/private/clientkey.pem',
} as const;

/** The name at `value` in a name table, or 'unknown' for values the table does not know. */
export function nameOf(names: readonly string[] | undefined, value: number): string {
  return names?.[value] ?? 'unknown';
}
