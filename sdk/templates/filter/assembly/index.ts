// A proxy-wasm HTTP filter: adds a response header.
//
// Configuration (JSON, optional): {"header": "x-hello", "value": "world"}
import { Action, HttpContext, LogLevel, RootContext, log, parseConfig, registerRoot } from "wasmesh-sdk";

/** One per filter configuration: parses it and creates a context per stream. */
class HelloRoot extends RootContext {
  header: string = "x-hello";
  value: string = "world";

  onConfigure(config: string): bool {
    const cfg = parseConfig(config); // "" -> {}; invalid JSON is logged and gives null
    if (cfg === null) return false; // refuse the configuration
    this.header = cfg.getString("header", "x-hello");
    this.value = cfg.getString("value", "world");
    if (this.header.length == 0) {
      log.error("\"header\" must not be empty");
      return false;
    }
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new Hello(id, this);
  }
}

/** One per request/response stream. */
class Hello extends HttpContext {
  constructor(id: u32, readonly settings: HelloRoot) {
    super(id, settings);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    // log.enabled() avoids building the message (and two header lookups) when debug is off
    if (log.enabled(LogLevel.Debug)) log.debug("request " + this.request.method + " " + this.request.path);
    return Action.Continue;
  }

  onResponseHeaders(headers: u32, endOfStream: bool): Action {
    this.response.headers.set(this.settings.header, this.settings.value);
    return Action.Continue;
  }
}

// "" matches any root_id when this is the only registered root.
registerRoot("", (id: u32): RootContext => new HelloRoot(id));
