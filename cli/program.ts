export const PROGRAM = 'libvirt-telemetry';
