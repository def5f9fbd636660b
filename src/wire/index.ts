/**
 * PostgreSQL v3 wire protocol: framing of both directions, parsers for the messages the gateway
 * reads, writers for the messages it writes itself, the startup-phase packets and PROXY v2.
 */
export { ProtocolError } from './errors.js';
export { BodyReader } from './reader.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_STARTUP_PACKET_BYTES,
  MessageFramer,
  type WireMessage,
} from './framer.js';
export * from './startup.js';
export * from './frontend.js';
export * from './backend.js';
export * from './proxy-v2.js';
