// Node-only pieces: the undici transport and the relay handler for node:http and Express.
export { undiciTransport, type UndiciTransportConfig } from './transport/undiciTransport.js';
export { createRelay, type NodeRelayOptions, type RelayHandler } from './relay/createRelay.js';
