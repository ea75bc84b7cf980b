// Precomputed "200 OK" strings: uWS wants the whole status line and most
// responses use the standard reason phrase.
import { STATUS_CODES } from 'node:http';

const LINES: string[] = [];
for (const [code, reason] of Object.entries(STATUS_CODES)) LINES[Number(code)] = `${code} ${reason}`;

export function statusLine(code: number, reason: string): string {
  const std = LINES[code];
  if (std !== undefined && (reason === '' || std.length === 4 + reason.length)) return std;
  return `${code} ${reason || 'Unknown'}`;
}
