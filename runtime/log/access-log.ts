// Access log as JSON lines, written asynchronously: lines collect in a string
// and are flushed by one fs.write per 100 ms or 64 KiB, so logging never
// blocks a request. Each worker appends to the same file opened O_APPEND;
// every flush is one write(2), so lines of different workers never interleave.
import * as fs from 'node:fs';

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 100;

export interface AccessRecord {
  startTime: number;
  method: string;
  path: string;
  status: number;
  flags: string;
  upstreamHost: string;
  upstreamCluster: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  upstreamDurationMs: number;
  requestId: string;
  listener: string;
  details: string;
}

export class AccessLog {
  private buf = '';
  private timer: NodeJS.Timeout | null = null;
  private writing = false;
  private readonly fd: number;
  private readonly flushBound = () => this.flush();

  constructor(path: string) {
    this.fd = path === '-' ? 1 : fs.openSync(path, 'a');
  }

  write(r: AccessRecord): void {
    if (this.closed) return;
    // Field order is fixed; only free-form strings go through JSON.stringify.
    this.buf += `{"start_time":"${new Date(r.startTime).toISOString()}","method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)},"status":${r.status},"flags":"${r.flags}","upstream_cluster":${JSON.stringify(r.upstreamCluster)},"upstream_host":"${r.upstreamHost}","bytes_received":${r.bytesReceived},"bytes_sent":${r.bytesSent},"duration_ms":${r.durationMs.toFixed(3)},"upstream_duration_ms":${r.upstreamDurationMs.toFixed(3)},"request_id":${JSON.stringify(r.requestId)},"listener":${JSON.stringify(r.listener)}${r.details ? `,"details":${JSON.stringify(r.details)}` : ''}}\n`;
    if (this.buf.length >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) this.timer = setTimeout(this.flushBound, FLUSH_MS);
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.buf === '') return;
    const data = this.buf;
    this.buf = '';
    this.writing = true;
    fs.write(this.fd, data, null, 'utf8', (err) => {
      this.writing = false;
      if (err) process.stderr.write(`wasmesh: access log write failed: ${err.message}\n`);
      if (this.buf !== '') this.flush();
    });
  }

  private closed = false;

  /** Synchronous final flush, for shutdown. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.buf !== '') {
      try {
        fs.writeSync(this.fd, this.buf);
      } catch {
        /* shutting down; nothing better to do */
      }
      this.buf = '';
    }
    if (this.fd !== 1) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already gone; nothing to flush */
      }
    }
  }
}
