// GET_ALL_DOMAIN_STATS replies decoded into columns (StatsColumns in types.ts) and read back by field. A reply
// of a big host carries about a million parameters; a Map entry and a BigInt per parameter, then a Map per
// device, held several times the message's own size. Here a parameter is a key id, an index, a type byte and
// a double, and what a name means (`block.3.rd.bytes`: key `block.<n>.rd.bytes`, index 3) is worked out once
// per distinct name.
import { ProtocolError } from './errors.js';
import { BytesTable } from './intern.js';
import { Limits, TypedParamType } from './protocol.js';
import { DOMAIN_MIN_BYTES, readDomain } from './structs.js';
import type { DomainRef, DomainStatsRecord, StatsColumns, StatsParamValue } from './types.js';
import type { XdrReader } from './xdr.js';
import { type BodyDecoder, type ItemReader, ItemStream, readAll } from './xdr-stream.js';

/** Smallest wire size of a remote_typed_param: empty name (4) + type (4) + 4-byte arm. */
export const TYPED_PARAM_MIN_BYTES = 12;
/** libvirt's client copies names into char[VIR_TYPED_PARAM_FIELD_LENGTH = 80]; longer ones are refused. */
export const TYPED_PARAM_NAME_MAX = 79;
/** The index of a parameter whose name has none (`state.state`, `block.count`). */
export const NO_INDEX = 0xffffffff;

/** A parameter name without its index: `field` of entry `<n>` of `group`, or (group '') the whole name. */
export interface StatsKey {
  readonly id: number;
  readonly group: string;
  readonly field: string;
}

/**
 * Every key seen since start, by id. The columns and the field readers hold ids, so the table never starts
 * over; instead it is capped. libvirt has about a hundred keys (indices are not part of them): a daemon that
 * sends more than MAX distinct ones has its excess parameters decoded, counted in `left` and not kept.
 */
export class StatsKeys {
  static readonly MAX = 4096;
  private readonly byGroup = new Map<string, Map<string, StatsKey>>();
  private readonly byId: StatsKey[] = [];
  /** Parameters not kept because their key did not fit. */
  left = 0;

  /** The id of `field` of `group`, or undefined when the table is full. */
  idOf(group: string, field: string): number | undefined {
    let fields = this.byGroup.get(group);
    const known = fields?.get(field);
    if (known !== undefined) return known.id;
    if (this.byId.length >= StatsKeys.MAX) return undefined;
    if (fields === undefined) this.byGroup.set(group, (fields = new Map()));
    const key = { id: this.byId.length, group, field };
    fields.set(field, key);
    this.byId.push(key);
    return key.id;
  }

  get(id: number): StatsKey {
    return this.byId[id]!;
  }
}

export const STATS_KEYS = new StatsKeys();

/** A parameter name as the decoder stores it; `key` is undefined when the key table is full. */
interface StatsName {
  readonly text: string;
  readonly key: number | undefined;
  readonly index: number;
}

/** An index as libvirt writes it (no leading zero, below 10^9): other digits stay part of a name without index. */
const INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

function parseName(text: string): StatsName {
  const dot = text.indexOf('.');
  const next = dot > 0 ? text.indexOf('.', dot + 1) : -1;
  if (next > 0 && INDEX.test(text.slice(dot + 1, next))) {
    return { text, key: STATS_KEYS.idOf(text.slice(0, dot), text.slice(next + 1)), index: Number(text.slice(dot + 1, next)) };
  }
  return { text, key: STATS_KEYS.idOf('', text), index: NO_INDEX };
}

/** The wire name of a parameter (the inverse of parseName). */
function nameOf(key: StatsKey, index: number): string {
  return key.group === '' ? key.field : `${key.group}.${index}.${key.field}`;
}

/** Parameter names by their bytes, parsed once; bounded like the other tables (structs.ts). */
const NAMES = new BytesTable<StatsName>(4096, TYPED_PARAM_NAME_MAX);

/** Parameters of consecutive records (of one reply, or one record's copy: cpu-times.ts), in columns of a fixed capacity. */
export class Columns implements StatsColumns {
  readonly keys: Uint16Array;
  readonly indexes: Uint32Array;
  readonly types: Uint8Array;
  readonly values: Float64Array;
  readonly strings: string[] = [];
  length = 0;

  constructor(readonly capacity: number) {
    this.keys = new Uint16Array(capacity);
    this.indexes = new Uint32Array(capacity);
    this.types = new Uint8Array(capacity);
    this.values = new Float64Array(capacity);
  }

  /**
   * Appends a parameter of a type other than STRING. One whose key did not fit the key table (undefined) is
   * counted in STATS_KEYS.left and not kept; returns whether it was kept.
   */
  add(key: number | undefined, index: number, type: number, value: number): boolean {
    if (key === undefined) {
      STATS_KEYS.left++;
      return false;
    }
    const at = this.length++;
    this.keys[at] = key;
    this.indexes[at] = index;
    this.types[at] = type;
    this.values[at] = value;
    return true;
  }

  /** Appends a STRING parameter (its value is the text's position in `strings`), as add() does. */
  addText(key: number | undefined, index: number, text: string): void {
    if (this.add(key, index, TypedParamType.STRING, this.strings.length)) this.strings.push(text);
  }
}

/**
 * Parameters per column block: a reply's records share blocks of up to this many, so that a bulk reply is a
 * few typed arrays and a one-domain reply (the per-domain fallback) gets one of its own size.
 */
const BLOCK_PARAMS = 16384;
const NO_COLUMNS = new Columns(0);

/** remote_domain_stats_record<> → records over shared columns. Bounded as every read (xdr.ts): counts are checked before allocating. */
export function readDomainStats(r: XdrReader): DomainStatsRecord[] {
  return readAll(r, new DomainStatsReader());
}

/** The same decoding while the reply arrives (xdr-stream.ts): memory is the columns plus at most one item. */
export function streamDomainStats(payloadBytes: number, what: string): BodyDecoder<DomainStatsRecord[]> {
  return new ItemStream(payloadBytes, new DomainStatsReader(), what);
}

/**
 * The stats reply as items: the record count, then per record its head (domain and parameter count) and each
 * parameter. An item changes nothing until its last read succeeded, so a chunk boundary anywhere is fine.
 */
class DomainStatsReader implements ItemReader<DomainStatsRecord[]> {
  private records: DomainStatsRecord[] | undefined;
  /** The record being read: its domain, where its parameters start, how many are still to come; records read before it. */
  private domain: DomainRef | undefined;
  private first = 0;
  private params = 0;
  private read = 0;
  private columns = NO_COLUMNS;

  next(r: XdrReader): boolean {
    const records = this.records;
    if (records === undefined) {
      const count = r.count(Limits.DOMAIN_LIST_MAX, DOMAIN_MIN_BYTES + 4, 'stats records');
      this.records = new Array<DomainStatsRecord>(count);
      return count === 0;
    }
    if (this.domain === undefined) {
      const domain = readDomain(r);
      const n = r.count(Limits.DOMAIN_STATS_PARAMS_MAX, TYPED_PARAM_MIN_BYTES, 'typed params');
      // A new block sized for this record and, up to BLOCK_PARAMS, for as many more like it as the reply has left.
      const columns = this.columns;
      if (columns.capacity - columns.length < n) this.columns = new Columns(Math.max(n, Math.min(BLOCK_PARAMS, n * (records.length - this.read))));
      this.domain = domain;
      this.first = this.columns.length;
      this.params = n;
    } else {
      readParam(r, this.columns);
      this.params--;
    }
    if (this.params > 0) return false;
    records[this.read++] = { domain: this.domain, columns: this.columns, first: this.first, end: this.columns.length };
    this.domain = undefined;
    return this.read === records.length;
  }

  value(): DomainStatsRecord[] {
    return this.records!;
  }
}

function readParam(r: XdrReader, columns: Columns): void {
  const name = r.interned(TYPED_PARAM_NAME_MAX, NAMES, parseName, 'typed param name');
  const type = r.int('typed param type');
  if (type === TypedParamType.STRING) columns.addText(name.key, name.index, r.string(Limits.STRING_MAX, name.text));
  else columns.add(name.key, name.index, type, readTypedParamNumber(r, type, name.text));
}

/**
 * The value of a remote_typed_param (§5.1) of wire type `type` (read just before), named `name` for errors:
 * a STRING's text, any other type as a number (BOOLEAN as 0 or 1, hypers as the nearest double). Throws
 * ProtocolError for an unknown type.
 */
export function readTypedParamValue(r: XdrReader, type: number, name: string): number | string {
  return type === TypedParamType.STRING ? r.string(Limits.STRING_MAX, name) : readTypedParamNumber(r, type, name);
}

/** readTypedParamValue of a type other than STRING; apart, so that the stats decoder's hot path gets a number, not a union. */
function readTypedParamNumber(r: XdrReader, type: number, name: string): number {
  switch (type) {
    case TypedParamType.INT:
      return r.int(name);
    case TypedParamType.UINT:
      return r.uint(name);
    case TypedParamType.LLONG:
      return r.hyperAsNumber(name);
    case TypedParamType.ULLONG:
      return r.uhyperAsNumber(name);
    case TypedParamType.DOUBLE:
      return r.double(name);
    case TypedParamType.BOOLEAN:
      return r.int(name) !== 0 ? 1 : 0;
    default:
      // The arm's size is unknown, so nothing after it can be decoded.
      throw new ProtocolError(`typed param '${name}': unknown type ${type}`);
  }
}

/** Parameter `at` as a number (BOOLEAN as 0 or 1); undefined for a STRING. */
export function numberAt(columns: StatsColumns, at: number): number | undefined {
  return columns.types[at] === TypedParamType.STRING ? undefined : columns.values[at];
}

/** Parameter `at` if it is a STRING. */
export function textAt(columns: StatsColumns, at: number): string | undefined {
  return columns.types[at] === TypedParamType.STRING ? columns.strings[columns.values[at]!] : undefined;
}

function valueAt(columns: StatsColumns, at: number): StatsParamValue {
  const type = columns.types[at];
  if (type === TypedParamType.STRING) return columns.strings[columns.values[at]!]!;
  if (type === TypedParamType.BOOLEAN) return columns.values[at] === 1;
  return columns.values[at]!;
}

/** A record's parameters by wire name, in wire order (a later duplicate replaces the value): for readers of a few records. */
export function paramsOf(record: DomainStatsRecord): Map<string, StatsParamValue> {
  const { columns, first, end } = record;
  const params = new Map<string, StatsParamValue>();
  for (let i = first; i < end; i++) params.set(nameOf(STATS_KEYS.get(columns.keys[i]!), columns.indexes[i]!), valueAt(columns, i));
  return params;
}

const UNSEEN = -3;
const OTHER = -2;

/**
 * Reads chosen fields of records, one record at a time, without allocating per record: the names without an
 * index (`group` ''; `fields` are whole names), or the fields of each entry of an indexed group (`block`;
 * `fields` like `rd.bytes`, `name`). Each key id is matched against `fields` once, when first met. As in
 * libvirt's own readers, a later parameter of the same name replaces an earlier one.
 */
export class StatsFields {
  /** Per key id: the position of its field in `fields`, −1 for another field of the group, OTHER or UNSEEN. */
  private readonly slots = new Int16Array(StatsKeys.MAX).fill(UNSEEN);
  private columns: StatsColumns = NO_COLUMNS;
  /** Entries of the record read last, in order of first appearance: their indices and, per field, the parameter's position (−1: absent). */
  private indexes: Uint32Array = new Uint32Array(8);
  private positions: Int32Array = new Int32Array(0);
  private readonly entryOf = new Map<number, number>();
  /** Entries of the record read last (1 for names without an index). */
  entries = 0;

  constructor(
    readonly group: string,
    readonly fields: readonly string[],
  ) {}

  /** The slot of `field` for number() and text(). */
  slot(field: string): number {
    const slot = this.fields.indexOf(field);
    if (slot < 0) throw new RangeError(`${field} is not one of the fields read`);
    return slot;
  }

  /** Reads `record`; returns the number of its entries. */
  read(record: DomainStatsRecord): number {
    const { columns, first, end } = record;
    this.columns = columns;
    this.entries = 0;
    // Map#clear allocates a new table: done only when something was put in it.
    if (this.entryOf.size > 0) this.entryOf.clear();
    const indexed = this.group !== '';
    if (!indexed) this.addEntry(NO_INDEX);
    let lastIndex = NO_INDEX;
    let entry = 0;
    for (let i = first; i < end; i++) {
      const slot = this.slotOf(columns.keys[i]!);
      if (slot === OTHER) continue;
      if (indexed) {
        const index = columns.indexes[i]!;
        if (index !== lastIndex) {
          entry = this.entryOf.get(index) ?? this.addEntry(index);
          lastIndex = index;
        }
      }
      if (slot >= 0) this.positions[entry * this.fields.length + slot] = i;
    }
    return this.entries;
  }

  /** The group index of `entry` (NO_INDEX for names without one). */
  index(entry: number): number {
    return this.indexes[entry]!;
  }

  /** Field `slot` of `entry` of the record read last, if present and a number. */
  number(entry: number, slot: number): number | undefined {
    const at = this.position(entry, slot);
    return at < 0 ? undefined : numberAt(this.columns, at);
  }

  /** Field `slot` of `entry` of the record read last, if present and a string. */
  text(entry: number, slot: number): string | undefined {
    const at = this.position(entry, slot);
    return at < 0 ? undefined : textAt(this.columns, at);
  }

  /** Whether `entry` of the record read last has any of the fields read. */
  anyPresent(entry: number): boolean {
    for (let slot = 0; slot < this.fields.length; slot++) if (this.position(entry, slot) >= 0) return true;
    return false;
  }

  /** Where field `slot` of `entry` of the record read last is in its columns; −1 when absent (the buffers also hold earlier records'). */
  position(entry: number, slot: number): number {
    return entry < this.entries ? this.positions[entry * this.fields.length + slot]! : -1;
  }

  private slotOf(key: number): number {
    let slot = this.slots[key]!;
    if (slot === UNSEEN) {
      const { group, field } = STATS_KEYS.get(key);
      slot = group !== this.group ? OTHER : this.fields.indexOf(field); // −1: UNMAPPED
      this.slots[key] = slot;
    }
    return slot;
  }

  private addEntry(index: number): number {
    const entry = this.entries++;
    const width = this.fields.length;
    if (this.indexes.length < this.entries) this.indexes = grown(this.indexes, this.entries);
    if (this.positions.length < this.entries * width) this.positions = grown(this.positions, this.entries * width);
    this.indexes[entry] = index;
    this.positions.fill(-1, entry * width, (entry + 1) * width);
    if (index !== NO_INDEX) this.entryOf.set(index, entry);
    return entry;
  }
}

/** A copy of `array` with room for at least `atLeast` elements, at least twice its length. */
export function grown<A extends Uint32Array | Int32Array>(array: A, atLeast: number): A {
  const bigger = new (array.constructor as new (length: number) => A)(Math.max(atLeast, array.length * 2));
  bigger.set(array);
  return bigger;
}
