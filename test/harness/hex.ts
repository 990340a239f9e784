/** Bytes from hex text as the reference writes it: whitespace and `|` separators are ignored. */
export function hex(text: string): Buffer {
  const digits = text.replace(/[\s|]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex: ${text}`);
  return Buffer.from(digits, 'hex');
}
