// HTTP basic auth against the bcrypt hashes of the web config file.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * Checks basic-auth credentials against the bcrypt hashes. bcrypt is slow on purpose, so credentials that
 * matched once are remembered (by user, password and hash); an unknown user costs a comparison too, so
 * timing does not tell which users exist.
 */
export class BasicAuth {
  /** sha256 of user, password and hash of credentials that matched. */
  private readonly verified = new Set<string>();
  private dummyHash: string | undefined;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  /** True when the Authorization header carries a valid user and password. */
  async check(authorization: string | undefined): Promise<boolean> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.users.get(user);
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (hash && this.verified.has(key)) return true;
    this.dummyHash ??= await bcrypt.hash('not a password', 10);
    const ok = await bcrypt.compare(password, hash ?? this.dummyHash);
    if (ok && hash) {
      if (this.verified.size >= 1024) this.verified.clear();
      this.verified.add(key);
    }
    return ok && hash !== undefined;
  }
}
