// Worker-thread entry point.
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInit } from './messages';
import { runWorker } from './worker';

runWorker(parentPort!, workerData as WorkerInit, false);
