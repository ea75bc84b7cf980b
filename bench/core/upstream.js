#!/usr/bin/env node
'use strict';
// Benchmark upstream: a plain uWebSockets.js app that answers every request
// (any method, any path) with 200 and exactly 64 bytes of body.
//
//   node bench/core/upstream.js PORT [HOST]
//
// Prints "upstream listening on HOST:PORT" once listening; exits 1 if it
// cannot listen. Stops on SIGTERM/SIGINT.
const path = require('path');
let uWS;
try {
  uWS = require('uWebSockets.js');
} catch (e) {
  // resolve from the repo root when run from elsewhere
  uWS = require(require.resolve('uWebSockets.js', { paths: [path.join(__dirname, '..', '..')] }));
}

const port = Number(process.argv[2] || 18081);
const host = process.argv[3] || '127.0.0.1';
// exactly 64 bytes
const BODY = Buffer.from('wasmesh-bench-upstream-0123456789abcdefghijklmnopqrstuvwxyz-ok.\n');
if (BODY.length !== 64) throw new Error('body must be 64 bytes, is ' + BODY.length);

const app = uWS.App();
app.any('/*', (res /*, req */) => {
  res.cork(() => {
    res.writeHeader('Content-Type', 'text/plain');
    res.end(BODY);
  });
});

let listenSocket = null;
app.listen(host, port, (s) => {
  if (!s) {
    console.error(`upstream: failed to listen on ${host}:${port}`);
    process.exit(1);
  }
  listenSocket = s;
  console.log(`upstream listening on ${host}:${port}`);
});

function stop() {
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
  listenSocket = null;
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
