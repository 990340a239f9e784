// A minimal writer of the cpio "newc" format the kernel unpacks as initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Device nodes are declared in the
// archive, so building it needs no mknod and no cpio binary.

export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  name: string;
  /** Full st_mode: type bits | permissions. */
  mode: number;
  data?: Buffer;
  /** For character/block devices. */
  rdev?: { major: number; minor: number };
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;

const hex8 = (value: number): string => value.toString(16).padStart(8, '0');
const pad4 = (length: number): Buffer => Buffer.alloc((4 - (length % 4)) % 4);

function entryBytes(entry: CpioEntry, ino: number): Buffer[] {
  const data = entry.data ?? Buffer.alloc(0);
  const name = Buffer.from(`${entry.name}\0`);
  const fields = [
    ino,
    entry.mode,
    0, // uid
    0, // gid
    (entry.mode & S_IFDIR) === S_IFDIR ? 2 : 1, // nlink
    0, // mtime: reproducible archives
    data.length,
    0, // devmajor
    0, // devminor
    entry.rdev?.major ?? 0,
    entry.rdev?.minor ?? 0,
    name.length,
    0, // check (unused by newc)
  ];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  const afterName = header.length + name.length;
  return [header, name, pad4(afterName), data, pad4(data.length)];
}

export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts = entries.flatMap((entry, index) => entryBytes(entry, index + 1));
  parts.push(...entryBytes({ name: 'TRAILER!!!', mode: 0 }, 0));
  return Buffer.concat(parts);
}
