// Imported first by the bench CLI, for its side effect: V8's memory reducer
// runs a full GC in a thread ~8 s after its heap first grew ("the program
// looks idle"): a few ms of pause in the middle of a run, in the tool's
// latency tail, and the tool and the server under test often share a CPU.
// `--no-memory-reducer` is read when an isolate is created (the worker
// threads); `--no-memory-reducer-for-small-heaps` when the heap grows, so it
// must be set before the main thread's heap grows past its bootstrap size.
import * as v8 from 'v8';

export function quietGc(): void {
  v8.setFlagsFromString('--no-memory-reducer');
  v8.setFlagsFromString('--no-memory-reducer-for-small-heaps');
}

quietGc();
