// Node-only pieces: the undici transport (and, with the relay, the node:http handler).
export { readableByteStream, undiciTransport, type UndiciTransportConfig } from './transport/undiciTransport.js';
