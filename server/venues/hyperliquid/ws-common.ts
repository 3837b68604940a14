/** What Hyperliquid's sockets share, quote and depth alike: the path, the heartbeat, the greeting text. */

export const HL_WS_PATH = '/ws';
/**
 * Client heartbeat `{"method":"ping"}` (answered `{"channel":"pong"}`). The server closes a connection it has
 * sent nothing to for 60 s ("Timeouts and heartbeats" page), so a ping after 30 s of inbound silence keeps a
 * quiet socket open (the nktkas SDK pings every 30 s; the Python SDK every 50 s).
 */
export const HL_PING_MS = 30_000;
/** The plain-text frame the venue may send first (hyperliquid-python-sdk websocket_manager.py). */
export const HL_WELCOME_TEXT = 'Websocket connection established.';
