// Incremental HTTP/1.1 response parser (RFC 9112) for the upstream client.
// Fed arbitrary Buffer slices; keeps only the unfinished head (or trailer
// section) between calls. Body bytes go out as subarray views, never copied.
// Strict where leniency enables smuggling: obs-fold, CTLs, bad or conflicting
// Content-Length, CL together with TE, and any coding other than "chunked"
// are errors.

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;

/** Callbacks of one parser; return false to make execute() stop right after this event. */
export interface ResponseParserSink {
  /**
   * The final (non-1xx) response head. `headers` is flat [name, value, ...]
   * with lower-case names. `contentLength` is the Content-Length value (also
   * for HEAD / 304, where no body follows) or -1 (chunked, close-delimited,
   * absent, or 204).
   */
  onParserHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): boolean;
  /** De-chunked body bytes; a view valid only during the call. */
  onParserBody(chunk: Buffer): boolean;
}

export interface ResponseParserOptions {
  /** Cap on one head (status line + fields) and on the trailer section. Default 64 KiB. */
  maxHeadBytes?: number;
  /**
   * Leave hop-by-hop fields (connection, keep-alive, proxy-connection,
   * transfer-encoding, upgrade, te, trailer, anything named in Connection)
   * and content-length out of the delivered list. Default false.
   */
  stripHopByHop?: boolean;
}

const enum St {
  Head,
  BodyLength,
  ChunkSize,
  ChunkSizeWs,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  Trailers,
  BodyClose,
  Done,
  Error,
}

// tchar (RFC 9110 5.6.2).
const TCHAR = new Uint8Array(256);
// field-vchar / SP / HTAB / obs-text: legal inside a field value or reason phrase.
const VALUE = new Uint8Array(256);
const HEX = new Int8Array(256).fill(-1);
(() => {
  for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
  for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;
  VALUE[0x09] = 1;
  for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
  for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;
  for (let c = 0; c <= 9; c++) HEX[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    HEX[0x41 + c] = 10 + c;
    HEX[0x61 + c] = 10 + c;
  }
})();

/** 13 hex digits stay below 2^53, so chunk sizes never lose precision. */
const MAX_CHUNK_SIZE_DIGITS = 13;

export class ResponseParser {
  /** Why the last execute() returned -1. */
  error = '';
  /** HTTP minor version of the final response (0 or 1). */
  versionMinor = 1;
  statusCode = 0;

  private readonly sink: ResponseParserSink;
  private readonly maxHead: number;
  private readonly strip: boolean;

  private state = St.Head;
  private isHeadRequest = false;
  private keepAliveFlag = true;
  private headersDoneFlag = false;
  private startedFlag = false;
  private stopFlag = false;
  // Head / trailer collection across calls.
  private nl = 0;
  private carry: Buffer | null = null;
  private carryLen = 0;
  // Body framing.
  private remaining = 0;
  private chunkDigits = 0;
  private extLen = 0;

  constructor(sink: ResponseParserSink, opts?: ResponseParserOptions) {
    this.sink = sink;
    this.maxHead = opts?.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.strip = opts?.stripHopByHop ?? false;
  }

  /** Prepare for the next response; `isHeadRequest` makes any final response bodiless. */
  reset(isHeadRequest: boolean): void {
    this.state = St.Head;
    this.isHeadRequest = isHeadRequest;
    this.keepAliveFlag = true;
    this.headersDoneFlag = false;
    this.startedFlag = false;
    this.stopFlag = false;
    this.nl = 0;
    this.carryLen = 0;
    this.remaining = 0;
    this.chunkDigits = 0;
    this.extLen = 0;
    this.error = '';
    this.versionMinor = 1;
    this.statusCode = 0;
  }

  /** The whole response has been parsed. */
  get complete(): boolean {
    return this.state === St.Done;
  }
  /** The final response head has been delivered. */
  get headersDone(): boolean {
    return this.headersDoneFlag;
  }
  /** At least one byte of the response (interim ones included) arrived since reset(). */
  get started(): boolean {
    return this.startedFlag;
  }
  /** The connection may carry another exchange after this response. */
  get keepAlive(): boolean {
    return this.keepAliveFlag;
  }
  get failed(): boolean {
    return this.state === St.Error;
  }

  /**
   * Parse `data` from `offset`. Returns the index where parsing stopped:
   * data.length when everything was consumed; less when a sink callback
   * returned false or the response completed (the rest is not part of this
   * response); -1 on a protocol error (see `error`).
   */
  execute(data: Buffer, offset: number): number {
    const len = data.length;
    let i = offset;
    if (i < len && this.state !== St.Done) this.startedFlag = true;
    while (i < len) {
      switch (this.state) {
        case St.Head:
        case St.Trailers: {
          i = this.scanSection(data, i, len);
          if (i < 0) return -1;
          if (this.stopFlag) {
            this.stopFlag = false;
            return i;
          }
          break;
        }
        case St.BodyLength:
        case St.ChunkData:
        case St.BodyClose: {
          const avail = len - i;
          let n = avail;
          if (this.state !== St.BodyClose) {
            if (this.remaining < avail) n = this.remaining;
            this.remaining -= n;
            if (this.remaining === 0) this.state = this.state === St.BodyLength ? St.Done : St.ChunkDataCr;
          }
          const end = i + n;
          // Whole-buffer case needs no view object at all.
          const more = this.sink.onParserBody(i === 0 && end === len ? data : data.subarray(i, end));
          i = end;
          if (!more) return i;
          break;
        }
        case St.ChunkSize: {
          const c = data[i];
          const h = HEX[c];
          if (h >= 0) {
            if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS) return this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + h;
            i++;
          } else if (this.chunkDigits === 0) {
            return this.fail('invalid chunk size');
          } else if (c === 13) {
            this.state = St.ChunkSizeLf;
            i++;
          } else if (c === 10) {
            i++;
            this.chunkLineDone();
          } else if (c === 59) {
            // Extensions are ignored.
            this.state = St.ChunkExt;
            this.extLen = 0;
            i++;
          } else if (c === 32 || c === 9) {
            this.state = St.ChunkSizeWs;
            i++;
          } else {
            return this.fail('invalid chunk size');
          }
          break;
        }
        case St.ChunkSizeWs: {
          // BWS after the size may only lead to ";" or the line end.
          const c = data[i];
          if (c === 59) {
            this.state = St.ChunkExt;
            this.extLen = 0;
          } else if (c === 13) this.state = St.ChunkSizeLf;
          else if (c === 10) this.chunkLineDone();
          else if (c !== 32 && c !== 9) return this.fail('invalid chunk size');
          i++;
          break;
        }
        case St.ChunkExt: {
          let c = data[i];
          const start = i;
          while (VALUE[c] === 1 && ++i < len) c = data[i];
          this.extLen += i - start;
          if (this.extLen > this.maxHead) return this.fail('chunk extension too long');
          if (i === len) break;
          if (c === 13) this.state = St.ChunkSizeLf;
          else if (c === 10) this.chunkLineDone();
          else return this.fail('invalid character in chunk extension');
          i++;
          break;
        }
        case St.ChunkSizeLf:
          if (data[i] !== 10) return this.fail('expected LF after chunk size');
          i++;
          this.chunkLineDone();
          break;
        case St.ChunkDataCr: {
          const c = data[i];
          if (c === 13) this.state = St.ChunkDataLf;
          else if (c === 10) this.nextChunk();
          else return this.fail('expected CRLF after chunk data');
          i++;
          break;
        }
        case St.ChunkDataLf:
          if (data[i] !== 10) return this.fail('expected CRLF after chunk data');
          i++;
          this.nextChunk();
          break;
        case St.Done:
          return i;
        default:
          return -1;
      }
    }
    return i;
  }

  /**
   * The upstream closed its side. Returns true when that completes the
   * response (close-delimited body, or already complete); false when the
   * response is truncated.
   */
  finish(): boolean {
    if (this.state === St.BodyClose) this.state = St.Done;
    return this.state === St.Done;
  }

  private fail(msg: string): number {
    this.state = St.Error;
    this.error = msg;
    return -1;
  }

  private nextChunk(): void {
    this.state = St.ChunkSize;
    this.remaining = 0;
    this.chunkDigits = 0;
  }

  private chunkLineDone(): void {
    if (this.remaining === 0) {
      // last-chunk: the trailer section follows; we already are after one LF.
      this.state = St.Trailers;
      this.nl = 1;
      this.carryLen = 0;
    } else {
      this.state = St.ChunkData;
    }
  }

  /**
   * Find the blank line ending a head / trailer section. A section that is
   * not complete in `data` is copied into `carry`; a complete one is parsed
   * in place when nothing was carried (the common case).
   */
  private scanSection(data: Buffer, i: number, len: number): number {
    let nl = this.nl;
    let j = i;
    for (; j < len; j++) {
      const c = data[j];
      if (c === 10) {
        if (++nl === 2) break;
      } else if (c !== 13) {
        nl = 0;
      }
    }
    const found = j < len;
    const end = found ? j + 1 : len;
    if (this.carryLen + (end - i) > this.maxHead) {
      return this.fail(this.state === St.Head ? 'response head too large' : 'trailer section too large');
    }
    if (!found) {
      this.append(data, i, len);
      this.nl = nl;
      return len;
    }
    this.nl = 0;
    let ok: boolean;
    if (this.carryLen === 0) {
      ok = this.state === St.Head ? this.parseHead(data, i, end) : this.parseTrailers(data, i);
    } else {
      this.append(data, i, end);
      const n = this.carryLen;
      this.carryLen = 0;
      ok = this.state === St.Head ? this.parseHead(this.carry!, 0, n) : this.parseTrailers(this.carry!, 0);
    }
    return ok ? end : -1;
  }

  private append(data: Buffer, from: number, to: number): void {
    const need = this.carryLen + (to - from);
    let c = this.carry;
    if (c === null || c.length < need) {
      let size = c === null ? 1024 : c.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, Math.max(need, this.maxHead)));
      if (c !== null && this.carryLen > 0) c.copy(grown, 0, 0, this.carryLen);
      this.carry = c = grown;
    }
    data.copy(c, this.carryLen, from, to);
    this.carryLen = need;
  }

  /** Parse one complete head in b[s, e) (ends with the blank line's LF). */
  private parseHead(b: Buffer, s: number, e: number): boolean {
    // status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason-phrase ]; a missing
    // reason after the code is tolerated, as most clients do.
    if (b[s] !== 72 || b[s + 1] !== 84 || b[s + 2] !== 84 || b[s + 3] !== 80 || b[s + 4] !== 47 || b[s + 5] !== 49 || b[s + 6] !== 46) {
      return this.failB('invalid status line');
    }
    const minor = b[s + 7] - 48;
    if ((minor !== 0 && minor !== 1) || b[s + 8] !== 32) return this.failB('unsupported HTTP version or invalid status line');
    const d1 = b[s + 9] - 48;
    const d2 = b[s + 10] - 48;
    const d3 = b[s + 11] - 48;
    if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return this.failB('invalid status code');
    const status = d1 * 100 + d2 * 10 + d3;
    let p = s + 12;
    let c = b[p];
    let reason = '';
    if (c === 32) {
      const rs = ++p;
      c = b[p];
      while (VALUE[c] === 1) c = b[++p];
      if (p > rs) reason = b.toString('latin1', rs, p);
    }
    if (c === 13) c = b[++p];
    if (c !== 10) return this.failB('invalid status line');
    p++;

    if (status === 101) return this.failB('unexpected 101 Switching Protocols');
    const final = status >= 200;
    const strip = this.strip;
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let connClose = false;
    let connKeepAlive = false;
    let named: string[] | null = null;

    for (;;) {
      c = b[p];
      if (c === 13) {
        if (b[p + 1] !== 10) return this.failB('invalid header line');
        p += 2;
        break;
      }
      if (c === 10) {
        p++;
        break;
      }
      if (c === 32 || c === 9) return this.failB('obsolete line folding');
      const ns = p;
      let upper = false;
      while (TCHAR[c] === 1) {
        if (c <= 90 && c >= 65) upper = true;
        c = b[++p];
      }
      if (c !== 58 || p === ns) return this.failB('invalid header name');
      const ne = p;
      c = b[++p];
      while (c === 32 || c === 9) c = b[++p];
      const vs = p;
      let ve = p;
      while (VALUE[c] === 1) {
        p++;
        if (c !== 32 && c !== 9) ve = p;
        c = b[p];
      }
      if (c === 13) c = b[++p];
      if (c !== 10) return this.failB('invalid header value');
      p++;
      if (!final) continue; // interim heads are validated, not kept
      let name = b.toString('latin1', ns, ne);
      if (upper) name = name.toLowerCase();
      const value = ve > vs ? b.toString('latin1', vs, ve) : '';
      let hop = false;
      switch (name.length) {
        case 14:
          if (name === 'content-length') {
            const n = parseContentLength(value);
            if (n < 0) return this.failB('invalid content-length');
            if (contentLength !== -1 && contentLength !== n) return this.failB('conflicting content-length');
            contentLength = n;
            hop = true;
          }
          break;
        case 17:
          if (name === 'transfer-encoding') {
            // Only a single "chunked" is supported: other codings would need
            // close-delimited framing plus forwarding TE, and "chunked, chunked" is invalid.
            if (chunked || (value !== 'chunked' && value.toLowerCase() !== 'chunked')) {
              return this.failB('unsupported transfer-encoding');
            }
            chunked = true;
            hop = true;
          }
          break;
        case 10:
          if (name === 'connection') {
            hop = true;
            if (value === 'keep-alive') connKeepAlive = true;
            else if (value === 'close') connClose = true;
            else {
              const toks = value.toLowerCase().split(',');
              for (let k = 0; k < toks.length; k++) {
                const t = toks[k].trim();
                if (t === 'close') connClose = true;
                else if (t === 'keep-alive') connKeepAlive = true;
                else if (t !== '') (named ??= []).push(t);
              }
            }
          } else if (name === 'keep-alive') {
            hop = true;
          }
          break;
        case 16:
          hop = name === 'proxy-connection';
          break;
        case 7:
          hop = name === 'upgrade' || name === 'trailer';
          break;
        case 2:
          hop = name === 'te';
          break;
      }
      if (!hop || !strip) headers.push(name, value);
    }

    // The blank line found by scanSection must be the one that ended the loop.
    if (p !== e) return this.failB('invalid header section');
    if (!final) {
      // 100 / 102 / 103 and other 1xx: skip, the final head follows.
      return true;
    }
    if (chunked) {
      if (minor === 0) return this.failB('transfer-encoding in an HTTP/1.0 response');
      if (contentLength !== -1) return this.failB('both content-length and transfer-encoding');
    }
    if (named !== null && strip) stripNamed(headers, named);

    this.versionMinor = minor;
    this.statusCode = status;
    this.keepAliveFlag = !connClose && (minor === 1 || connKeepAlive);
    const hasBody = !(this.isHeadRequest || status === 204 || status === 304);
    let cl = contentLength;
    if (!hasBody) {
      this.state = St.Done;
      if (status === 204) cl = -1;
    } else if (chunked) {
      this.state = St.ChunkSize;
      this.remaining = 0;
      this.chunkDigits = 0;
    } else if (contentLength > 0) {
      this.state = St.BodyLength;
      this.remaining = contentLength;
    } else if (contentLength === 0) {
      this.state = St.Done;
    } else {
      this.state = St.BodyClose;
      this.keepAliveFlag = false;
    }
    this.headersDoneFlag = true;
    if (!this.sink.onParserHeaders(status, reason, headers, hasBody, cl)) this.stopFlag = true;
    return true;
  }

  /** Validate the trailer fields in b from p (complete section) and drop them. */
  private parseTrailers(b: Buffer, p: number): boolean {
    for (;;) {
      let c = b[p];
      if (c === 13) {
        if (b[p + 1] !== 10) return this.failB('invalid trailer line');
        break;
      }
      if (c === 10) break;
      if (c === 32 || c === 9) return this.failB('obsolete line folding in trailers');
      const ns = p;
      while (TCHAR[c] === 1) c = b[++p];
      if (c !== 58 || p === ns) return this.failB('invalid trailer name');
      c = b[++p];
      while (VALUE[c] === 1) c = b[++p];
      if (c === 13) c = b[++p];
      if (c !== 10) return this.failB('invalid trailer value');
      p++;
    }
    this.state = St.Done;
    return true;
  }

  private failB(msg: string): boolean {
    this.fail(msg);
    return false;
  }
}

/** 1*DIGIT, or a list of identical values (RFC 9110 8.6); -1 when invalid. */
function parseContentLength(v: string): number {
  const n = v.length;
  if (n === 0) return -1;
  let x = 0;
  for (let k = 0; k < n; k++) {
    const d = v.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return v.indexOf(',') >= 0 ? parseContentLengthList(v) : -1;
    x = x * 10 + d;
  }
  return n > 15 ? -1 : x;
}

function parseContentLengthList(v: string): number {
  const parts = v.split(',');
  let first = -1;
  for (let k = 0; k < parts.length; k++) {
    const n = parseContentLength(parts[k].trim());
    if (n < 0 || (first !== -1 && n !== first)) return -1;
    first = n;
  }
  return first;
}

/** Remove the fields listed in Connection (rare path: in-place compaction). */
function stripNamed(headers: string[], named: string[]): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (named.indexOf(headers[r]) >= 0) continue;
    headers[w] = headers[r];
    headers[w + 1] = headers[r + 1];
    w += 2;
  }
  headers.length = w;
}
