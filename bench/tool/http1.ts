// Minimal incremental HTTP/1.1 response framer for the load tool.
//
// It finds where each response ends and keeps the status code, and nothing
// else: no header names or values are turned into strings, no objects are
// made per response. It understands the status line, Content-Length,
// Transfer-Encoding: chunked (extensions and trailers skipped), Connection:
// close / keep-alive, 1xx interim responses, bodiless responses (HEAD, 204,
// 304) and close-delimited bodies. It is lenient: it is a measuring tool, not
// a proxy (the proxy's strict parser, runtime/upstream/response-parser.ts,
// allocates every header as a string, which costs throughput here).

/** feed() results other than an end offset. */
export const NEED_MORE = -1;
export const PARSE_ERROR = -2;

const enum St {
  Head,
  Body,
  ChunkSize,
  ChunkExt,
  ChunkData,
  ChunkDataEnd,
  TrailerLineStart,
  TrailerLine,
  TrailerEnd,
  UntilClose,
  Done,
}

const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c <= 9; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** Case-insensitive compare of b[s, s + name.length) with a lower-case name. */
function nameIs(b: Uint8Array, s: number, name: Uint8Array): boolean {
  for (let k = 0; k < name.length; k++) if ((b[s + k] | 0x20) !== name[k]) return false;
  return true;
}

/** Case-insensitive search for a lower-case ASCII word in b[s, e). */
function hasWord(b: Uint8Array, s: number, e: number, word: string): boolean {
  const n = word.length;
  const c0 = word.charCodeAt(0);
  outer: for (let i = s; i + n <= e; i++) {
    if ((b[i] | 0x20) !== c0) continue;
    for (let k = 1; k < n; k++) if ((b[i + k] | 0x20) !== word.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}

export class ResponseFramer {
  /** Status code of the final response (valid once the head is parsed). */
  status = 0;
  /** The connection may be reused after this response. */
  keepAlive = true;
  /** Bytes of this response seen so far (interim responses included). */
  bytes = 0;
  error = '';

  private st = St.Head;
  private headRequest = false;
  private remaining = 0;
  private chunkDigits = 0;
  /** Partial head carried across reads. */
  private carry: Buffer | null = null;
  private carryLen = 0;
  private maxHead = 64 * 1024;

  /** Prepare for the next response. */
  reset(headRequest: boolean): void {
    this.st = St.Head;
    this.headRequest = headRequest;
    this.status = 0;
    this.keepAlive = true;
    this.bytes = 0;
    this.remaining = 0;
    this.chunkDigits = 0;
    this.carryLen = 0;
    this.error = '';
  }

  /** A response has started (some byte of it arrived). */
  get started(): boolean {
    return this.bytes > 0;
  }

  /** The peer closed: true when that ends the response (close-delimited body). */
  finishOnClose(): boolean {
    if (this.st === St.UntilClose) {
      this.st = St.Done;
      return true;
    }
    return this.st === St.Done;
  }

  /**
   * Parse b[start, end). Returns the offset just past the end of the
   * response when it completed (the rest belongs to the next one),
   * NEED_MORE when all bytes were consumed without completing it, or
   * PARSE_ERROR (see `error`).
   */
  feed(b: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end) {
      switch (this.st) {
        case St.Head: {
          const r = this.scanHead(b, i, end);
          if (r === NEED_MORE) {
            this.bytes += end - start;
            return NEED_MORE;
          }
          if (r < 0) return r;
          i = r;
          break;
        }
        case St.Body: {
          const n = end - i < this.remaining ? end - i : this.remaining;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.st = St.Done;
          break;
        }
        case St.ChunkSize: {
          const c = b[i];
          const h = HEX[c];
          if (h >= 0) {
            if (++this.chunkDigits > 13) return this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + h;
          } else if (this.chunkDigits === 0) {
            return this.fail('invalid chunk size');
          } else if (c === 10) {
            this.chunkLineDone();
          } else {
            this.st = St.ChunkExt; // CR, extensions, whitespace: skip to LF
          }
          i++;
          break;
        }
        case St.ChunkExt:
          if (b[i++] === 10) this.chunkLineDone();
          break;
        case St.ChunkData: {
          const n = end - i < this.remaining ? end - i : this.remaining;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.st = St.ChunkDataEnd;
          break;
        }
        case St.ChunkDataEnd: {
          const c = b[i++];
          if (c === 10) {
            this.st = St.ChunkSize;
            this.remaining = 0;
            this.chunkDigits = 0;
          } else if (c !== 13) return this.fail('expected CRLF after chunk data');
          break;
        }
        case St.TrailerLineStart: {
          const c = b[i++];
          if (c === 10) this.st = St.Done;
          else if (c === 13) this.st = St.TrailerEnd;
          else this.st = St.TrailerLine;
          break;
        }
        case St.TrailerLine:
          if (b[i++] === 10) this.st = St.TrailerLineStart;
          break;
        case St.TrailerEnd:
          if (b[i++] !== 10) return this.fail('invalid trailer section');
          this.st = St.Done;
          break;
        case St.UntilClose:
          i = end;
          break;
        case St.Done:
          break;
      }
      if (this.st === St.Done) {
        this.bytes += i - start;
        return i;
      }
    }
    this.bytes += end - start;
    return NEED_MORE;
  }

  private fail(msg: string): number {
    this.error = msg;
    return PARSE_ERROR;
  }

  private chunkLineDone(): void {
    if (this.remaining === 0) this.st = St.TrailerLineStart;
    else this.st = St.ChunkData;
  }

  /**
   * Parse the head starting at b[i] in one pass. Returns the offset after it,
   * NEED_MORE (the bytes are kept and parsed again with the next read) or
   * PARSE_ERROR. Heads split across reads are rare: they are re-parsed from
   * the carried copy.
   */
  private scanHead(b: Uint8Array, i: number, end: number): number {
    if (this.carryLen > 0) {
      const before = this.carryLen;
      this.append(b, i, end);
      const r = this.parseHead(this.carry!, 0, this.carryLen);
      if (r === NEED_MORE) return this.carryLen > this.maxHead ? this.fail('response head too large') : NEED_MORE;
      this.carryLen = 0;
      if (r === PARSE_ERROR) return r;
      return i + (r - before);
    }
    const r = this.parseHead(b, i, end);
    if (r === NEED_MORE) {
      if (end - i > this.maxHead) return this.fail('response head too large');
      this.append(b, i, end);
    }
    return r;
  }

  private append(b: Uint8Array, from: number, to: number): void {
    const need = this.carryLen + (to - from);
    let c = this.carry;
    if (c === null || c.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(1024, need * 2));
      if (c !== null && this.carryLen > 0) c.copy(grown, 0, 0, this.carryLen);
      this.carry = c = grown;
    }
    c.set(b.subarray(from, to), this.carryLen);
    this.carryLen = need;
  }

  /** Parse one head in b[s, e): the offset after its blank line, NEED_MORE or PARSE_ERROR. */
  private parseHead(b: Uint8Array, s: number, e: number): number {
    if (e - s < 13) return NEED_MORE;
    // "HTTP/1.x SSS"
    if (b[s] !== 72 || b[s + 1] !== 84 || b[s + 2] !== 84 || b[s + 3] !== 80 || b[s + 4] !== 47 || b[s + 5] !== 49 || b[s + 6] !== 46) {
      return this.fail('invalid status line');
    }
    const minor = b[s + 7] - 48;
    const d1 = b[s + 9] - 48;
    const d2 = b[s + 10] - 48;
    const d3 = b[s + 11] - 48;
    if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return this.fail('invalid status code');
    const status = d1 * 100 + d2 * 10 + d3;
    let contentLength = -1;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    let p = s + 12;
    while (p < e && b[p] !== 10) p++;
    p++;
    // Header lines until the blank one.
    for (;;) {
      if (p >= e) return NEED_MORE;
      const c0 = b[p];
      if (c0 === 10) {
        p++;
        break;
      }
      if (c0 === 13) {
        if (p + 1 >= e) return NEED_MORE;
        if (b[p + 1] !== 10) return this.fail('invalid header line');
        p += 2;
        break;
      }
      let colon = p;
      while (colon < e && b[colon] !== 58 && b[colon] !== 10) colon++;
      let eol = colon;
      while (eol < e && b[eol] !== 10) eol++;
      if (eol >= e) return NEED_MORE;
      if (b[colon] === 58) {
        const n = colon - p;
        if (n === 14 && nameIs(b, p, CONTENT_LENGTH)) {
          let v = colon + 1;
          while (b[v] === 32 || b[v] === 9) v++;
          let x = 0;
          let digits = 0;
          for (; v < eol; v++) {
            const d = b[v] - 48;
            if (d < 0 || d > 9) break;
            x = x * 10 + d;
            digits++;
          }
          if (digits === 0 || digits > 15) return this.fail('invalid content-length');
          contentLength = x;
        } else if (n === 17 && nameIs(b, p, TRANSFER_ENCODING)) {
          chunked = hasWord(b, colon + 1, eol, 'chunked');
        } else if (n === 10 && nameIs(b, p, CONNECTION)) {
          if (hasWord(b, colon + 1, eol, 'close')) close = true;
          if (hasWord(b, colon + 1, eol, 'keep-alive')) keepAlive = true;
        }
      }
      p = eol + 1;
    }
    if (status < 200 && status !== 101) return p; // interim: the final head follows (state stays Head)
    this.status = status;
    this.keepAlive = !close && (minor === 1 || keepAlive);
    if (this.headRequest || status === 204 || status === 304 || status === 101) {
      this.st = St.Done;
    } else if (chunked) {
      this.st = St.ChunkSize;
      this.remaining = 0;
      this.chunkDigits = 0;
    } else if (contentLength > 0) {
      this.st = St.Body;
      this.remaining = contentLength;
    } else if (contentLength === 0) {
      this.st = St.Done;
    } else {
      this.st = St.UntilClose;
      this.keepAlive = false;
    }
    return p;
  }
}
