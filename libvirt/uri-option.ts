// --libvirt.uri of the roles that talk to libvirtd, validated when the command line is read: a URI this
// client cannot use (ssh, an unknown driver) is a usage error naming what it supports, not a retry loop.
import { UriError } from './errors.js';
import { parseUri } from './uri.js';

function validateUri(uri: string): string | undefined {
  try {
    parseUri(uri);
    return undefined;
  } catch (err) {
    if (err instanceof UriError) return err.message;
    throw err;
  }
}

export function libvirtUriOption<const D extends string>(description: D) {
  return { name: 'libvirt.uri', type: 'string', default: 'qemu:///system', description, validate: validateUri } as const;
}

/** The same flag for a role that works without libvirtd and only asks it when given one (the sidecar). */
export function optionalLibvirtUriOption<const D extends string>(description: D) {
  return { name: 'libvirt.uri', type: 'string', description, validate: validateUri } as const;
}
