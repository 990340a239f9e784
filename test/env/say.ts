// Progress lines of the test environment, on stderr so that stdout stays for answers (status --json).
export function say(message: string): void {
  process.stderr.write(`testenv: ${message}\n`);
}
