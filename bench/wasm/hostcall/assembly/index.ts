// Micro-benchmark filter: each request-headers callback makes `calls` host
// calls of the kind `op` ("header", "property", "shared"), so the host's
// per-call cost is (time with N calls - time with none) / N.
import { Action, HttpContext, RootContext, SharedData, getPropertyString, parseConfig, registerRoot } from "wasmesh-sdk";

let calls: i32 = 0;
let op: string = "header";

class Root extends RootContext {
  onConfigure(config: string): bool {
    const cfg = parseConfig(config);
    if (cfg === null) return false;
    calls = <i32>cfg.getInt("calls", 0);
    op = cfg.getString("op", "header");
    return true;
  }
  newHttpContext(id: u32): HttpContext {
    return new Bench(id, this);
  }
}

class Bench extends HttpContext {
  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    let n = 0;
    if (op == "header") {
      const h = this.request.headers;
      for (let i = 0; i < calls; i++) if (h.get("x-bench") !== null) n++;
    } else if (op == "property") {
      for (let i = 0; i < calls; i++) if (getPropertyString(["request", "path"]) !== null) n++;
    } else {
      for (let i = 0; i < calls; i++) if (SharedData.get("k") !== null) n++;
    }
    return n >= 0 ? Action.Continue : Action.Pause;
  }
}

registerRoot("", (id: u32): RootContext => new Root(id));
