// --libvirt.uri of the roles that talk to libvirtd, validated when the command line is read: a URI this
// client cannot use (ssh, an unknown driver) is a usage error naming what it supports, not a retry loop.
import { UriError } from './errors.js';
import { parseUri } from './uri.js';

export function libvirtUriOption<const D extends string>(description: D) {
  return {
    name: 'libvirt.uri',
    type: 'string',
    default: 'qemu:///system',
    description,
    validate: (uri: string): string | undefined => {
      try {
        parseUri(uri);
        return undefined;
      } catch (err) {
        if (err instanceof UriError) return err.message;
        throw err;
      }
    },
  } as const;
}
