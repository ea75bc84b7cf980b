// An authorization filter on @solo-io/proxy-runtime 0.1.8 that asks another
// cluster through proxy_http_call before it lets a request through: 200 from
// the auth service continues the stream, anything else gets a local 403.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_local_response, continue_request, HeaderPair, Headers,
} from "@solo-io/proxy-runtime";
import { HeaderMapTypeValues, BufferTypeValues, get_header_map_value, get_buffer_bytes } from "@solo-io/proxy-runtime/runtime";

class AuthRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Auth(context_id, this);
  }
}

function authDone(origin: Context, headers: u32, body_size: usize, trailers: u32): void {
  if (headers == 0) {
    send_local_response(503, "auth_unreachable", String.UTF8.encode("auth service unreachable\n"), [], -1);
    return;
  }
  const status = String.UTF8.decode(get_header_map_value(HeaderMapTypeValues.HttpCallResponseHeaders, String.UTF8.encode(":status")));
  const verdict = String.UTF8.decode(get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, body_size as u32));
  if (status == "200") {
    stream_context.headers.request.add("x-auth-verdict", verdict);
    continue_request();
  } else {
    send_local_response(403, "denied_by_auth_service", String.UTF8.encode("denied: " + verdict + "\n"), [], -1);
  }
}

class Auth extends Context {
  constructor(context_id: u32, root_context: AuthRoot) {
    super(context_id, root_context);
  }
  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const user = stream_context.headers.request.get("x-user");
    const headers: Headers = [];
    headers.push(new HeaderPair(String.UTF8.encode(":method"), String.UTF8.encode("GET")));
    headers.push(new HeaderPair(String.UTF8.encode(":path"), String.UTF8.encode("/check?user=" + user)));
    headers.push(new HeaderPair(String.UTF8.encode(":authority"), String.UTF8.encode("auth")));
    this.root_context.httpCall("auth", headers, new ArrayBuffer(0), [], 1000, this, authDone);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new AuthRoot(context_id); }, "auth");
