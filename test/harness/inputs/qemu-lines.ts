// QEMU domain-log lines the samples do not contain, written from the format strings in
// libvirt's src/qemu/ and QEMU's sources (each comment names the writer).

export const SYNTHETIC_QEMU_LINES = {
  /** qemuLogOperation() of a build without packager (libvirt 11.1, virt-manager/virt-manager#892). */
  headerWithoutPackage:
    '2025-03-02 09:00:00.001+0000: starting up libvirt version: 11.1.0, qemu version: 9.2.2qemu-9.2.2-1.fc42, kernel: 6.13.5-200.fc41.x86_64, hostname: fedora',
  /** Ubuntu-style package string with commas (apache/cloudstack#4334) and a QEMU without package. */
  headerWithCommas:
    '2020-09-15 10:00:00.500+0000: starting up libvirt version: 6.0.0, package: 0ubuntu8.3 (Christian Ehrhardt <christian.ehrhardt@canonical.com> Thu, 30 Jul 2020 16:51:09 +0200), qemu version: 4.2.1, kernel: 5.4.0-42-generic, hostname: kvm1',
  shutdownFromSnapshot: '2024-05-01 16:00:00.100+0000: shutting down, reason=from snapshot',
  resumingMigration: '2024-05-01 16:01:00.200+0000: resuming migration',
  taintWithDetail: "2024-05-01 16:02:00.300+0000: Domain id=9 is tainted: deprecated-config (machine type 'pc-i440fx-2.0')",
  /** qemu_kill_report() when the sender pid is 0. */
  signalWithoutSender: '2024-05-01T16:03:00.400000Z qemu-system-x86_64: terminating on signal 2',
  /** µs = 0: QEMU omits the fraction. */
  qemuTimeWithoutFraction: '2024-05-01T16:04:00Z qemu-system-x86_64: info: some informational report',
  /** print_loc() of a command-line option (zstackio/zstack#1325 shape). */
  qemuOptionError:
    "2024-05-01T16:05:00.500001Z qemu-kvm: -drive file=/dev/vg/disk,if=none,id=drive0: Could not open '/dev/vg/disk': Permission denied",
  /** The thread-info prefix of the pending QEMU series. */
  qemuThreadPrefix: '2026-01-20T08:00:00.123456Z qemu-system-x86_64(772366:main): warning: future form',
  /** A forked child's line in libvirt's own format, before exec(). */
  libvirtFormatLine: '2024-05-01 16:06:00.600+0000: 4721: error : virCommandHandshakeChild:441 : Failed to set up child',
  /** qemuExtDeviceLogCommand(): the helper's command follows on the next line. */
  externalDevice: '2024-05-01 16:07:00.700+0000: Starting external device: TPM Emulator',
  externalDeviceCommand: '/usr/bin/swtpm socket --ctrl type=unixio,path=/run/libvirt/qemu/swtpm/1-vm-swtpm.sock,mode=0600 --tpmstate dir=/var/lib/libvirt/swtpm/x/tpm2',
  /** Some other line libvirtd appends. */
  otherLibvirtLine: '2024-05-01 16:08:00.800+0000: something libvirt may write one day',
  /** Plain fprintf output of QEMU: no known shape. */
  kvmDump: 'KVM internal error. Suberror: 1',
} as const;
