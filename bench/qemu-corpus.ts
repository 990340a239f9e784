// A QEMU-log corpus whose every record can be found again in any pipeline's output: each line
// carries a token `rec-<id>` (one-line records) or `rec-<id>-<line>` (multi-line records), so the
// output is checked record by record — lost, split into parts, or duplicated — not by line counts.
// The shapes are those of parsers/shapes.ts: libvirt-written lines, QEMU reports, the chardev
// line, the external device record (2 lines) and the environment + command-line block (10–50
// lines, one write per record as libvirtd writes it).

/** Token of a line: the record id and, for multi-line records, the line number. */
export const TOKEN = /rec-([0-9]{9})(?:-([0-9]{2}))?/g;

const BASE_MS = Date.UTC(2026, 11, 7, 0, 0, 0);

function id9(id: number): string {
  return String(id).padStart(9, '0');
}

function libvirtTime(id: number): string {
  return new Date(BASE_MS + id).toISOString().replace('T', ' ').replace('Z', '+0000');
}

function qemuTime(id: number): string {
  // µs precision as QEMU writes it; a fraction of 0 is dropped as QEMU does.
  const micros = (id * 7919) % 1_000_000;
  const base = new Date(BASE_MS + id).toISOString().slice(0, 19);
  return micros === 0 ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

/** One record's text (lines joined by \n, ending with \n) and its number of lines. */
export interface CorpusRecord {
  readonly text: string;
  readonly lines: number;
}

function commandLine(id: number, domain: string, lineCount: number): CorpusRecord {
  const tag = (n: number) => `rec-${id9(id)}-${String(n).padStart(2, '0')}`;
  const lines: string[] = [];
  const env = 3;
  for (let n = 0; n < env; n++) lines.push(`LT_ENV_${n}=${tag(n)} \\`);
  lines.push(`/usr/bin/qemu-system-x86_64 \\`);
  // The binary line carries no token of its own: it is line `env`, found through its neighbours.
  for (let n = env + 1; n < lineCount - 1; n++) lines.push(`-object '{"qom-type":"memory-backend-ram","id":"${tag(n)}","size":1073741824,"domain":"${domain}"}' \\`);
  lines.push(`-msg timestamp=on,${tag(lineCount - 1)}`);
  return { text: `${lines.join('\n')}\n`, lines: lineCount };
}

/** The record kinds in the proportions of a busy domain log; `i` picks the kind. */
export function corpusRecord(id: number, i: number, domain: string): CorpusRecord {
  const r = `rec-${id9(id)}`;
  switch (i % 20) {
    case 0:
      return { text: `${libvirtTime(id)}: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0Debian 1:7.2+dfsg-7, kernel: 6.1.0-28-amd64, hostname: ${r}\n`, lines: 1 };
    case 1:
      return commandLine(id, domain, 10 + ((id * 31) % 41));
    case 2:
      return { text: `char device redirected to /dev/pts/${id % 512} (label ${r})\n`, lines: 1 };
    case 3:
      return { text: `${libvirtTime(id)}: Domain id=${id % 9999} is tainted: custom-monitor (${r})\n`, lines: 1 };
    case 4:
      return {
        text: `${libvirtTime(id)}: Starting external device: TPM Emulator ${r}-00\n/usr/bin/swtpm socket --ctrl type=unixio,path=/run/libvirt/qemu/swtpm/${domain}.sock --tpm2 ${r}-01\n`,
        lines: 2,
      };
    case 5:
      return { text: `${qemuTime(id)} qemu-system-x86_64: terminating on signal 15 from pid ${id % 65536} (${r})\n`, lines: 1 };
    case 6:
      return { text: `${libvirtTime(id)}: shutting down, reason=shutdown ${r}\n`, lines: 1 };
    case 7:
    case 8:
    case 9:
      return { text: `${qemuTime(id)} qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.07H:EBX.hle [bit 4] ${r}\n`, lines: 1 };
    case 10:
    case 11:
      return { text: `${qemuTime(id)} qemu-system-x86_64: -device virtio-blk-pci,drive=drive0: info: I/O error on ${r}\n`, lines: 1 };
    default:
      return { text: `${libvirtTime(id)}: guest agent ${r} reports the guest is running (uptime ${id % 86400} s)\n`, lines: 1 };
  }
}

/**
 * Record-by-record accounting: `expect` the corpus records as they are written, `see` each output
 * record (a JSON line), then `verdict`. A record is lost when a line of it is in no output record,
 * duplicated when a line is in two, split when its lines are in more than one output record.
 */
export class RecordLedger {
  private lineCount = new Uint8Array(1 << 20);
  /** Hits per line: offset of a record's first line in `hits`. */
  private firstLine = new Uint32Array(1 << 20);
  private hits = new Uint8Array(1 << 23);
  private parts = new Uint8Array(1 << 20);
  private nextLine = 0;
  private records = 0;

  expect(id: number, lines: number): void {
    if (id >= this.lineCount.length) {
      this.lineCount = grow(this.lineCount, id);
      this.firstLine = grow(this.firstLine, id);
      this.parts = grow(this.parts, id);
    }
    if (this.nextLine + lines > this.hits.length) this.hits = grow(this.hits, this.nextLine + lines);
    this.lineCount[id] = lines;
    this.firstLine[id] = this.nextLine;
    this.nextLine += lines;
    this.records++;
  }

  /** One output record: the tokens it holds (a token found twice in one record counts once). */
  see(outputRecord: string): void {
    const lines = new Set<string>();
    const ids = new Set<number>();
    for (const m of outputRecord.matchAll(TOKEN)) {
      const id = Number(m[1]);
      if (id >= this.lineCount.length || this.lineCount[id] === 0) continue;
      ids.add(id);
      lines.add(`${id}:${m[2] ?? '0'}`);
    }
    for (const key of lines) {
      const [id, line] = key.split(':').map(Number) as [number, number];
      const at = this.firstLine[id]! + line;
      if (this.hits[at]! < 255) this.hits[at]!++;
    }
    for (const id of ids) if (this.parts[id]! < 255) this.parts[id]!++;
  }

  verdict(): { records: number; ok: number; lost: number; linesLost: number; split: number; duplicated: number } {
    let ok = 0;
    let lost = 0;
    let linesLost = 0;
    let split = 0;
    let duplicated = 0;
    for (let id = 0; id < this.lineCount.length; id++) {
      const n = this.lineCount[id]!;
      if (n === 0) continue;
      let missing = 0;
      let doubled = false;
      for (let k = 0; k < n; k++) {
        const h = this.hits[this.firstLine[id]! + k]!;
        // Line 3 of a command line is the binary, which carries no token: judged by its neighbours.
        if (h === 0 && !(n >= 10 && k === 3)) missing++;
        if (h > 1) doubled = true;
      }
      if (missing > 0) {
        lost++;
        linesLost += missing;
      } else if (doubled) duplicated++;
      else if (this.parts[id]! > 1) split++;
      else ok++;
    }
    return { records: this.records, ok, lost, linesLost, split, duplicated };
  }
}

function grow<T extends Uint8Array | Uint32Array>(array: T, atLeast: number): T {
  let size = array.length;
  while (size <= atLeast) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}
